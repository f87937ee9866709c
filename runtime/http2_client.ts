// A small HTTP/2 client (TLS with an optional client certificate, or h2c) that
// Bun and Deno both run, reusing one connection per base URL. Ambit's own
// services and CLI use it to call the controlplane.
import * as http2 from "node:http2";

/** TLS settings for {@link Http2Client}. */
export interface Http2ClientTls {
  /** PEM roots that sign the server certificate. */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  /** Server identity check; default: accept any name the CA vouches for (SPIFFE certs carry no DNS name). */
  readonly checkServerIdentity?: (hostname: string, cert: unknown) => Error | undefined;
}

/** A response: status, headers, and the body as a stream of chunks. */
export interface Http2ClientResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly stream: http2.ClientHttp2Stream;
  text(): Promise<string>;
  json<T = unknown>(): Promise<T>;
}

/** One HTTP/2 connection to a base URL, reopened when it goes away. */
export class Http2Client {
  #session: http2.ClientHttp2Session | undefined;

  constructor(readonly baseUrl: string, private readonly tls: Http2ClientTls = {}) {}

  /** Sends a request; resolves once the response headers arrive. */
  request(method: string, path: string, options: { body?: string | Uint8Array; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Http2ClientResponse> {
    const session = this.#connect();
    return new Promise((resolve, reject) => {
      const stream = session.request({ ":method": method, ":path": path, ...options.headers }, { endStream: options.body === undefined });
      // A request that times out may sit on a connection the peer dropped unnoticed (Deno's client misses
      // some closes): drop the connection too, so the next request opens a fresh one.
      const timer = options.timeoutMs
        ? setTimeout(() => {
          stream.close(http2.constants.NGHTTP2_CANCEL);
          if (this.#session === session) this.close();
          reject(new Error(`${method} ${path}: timed out`));
        }, options.timeoutMs)
        : undefined;
      stream.once("error", (e) => (clearTimeout(timer), reject(e)));
      stream.once("close", () => {
        clearTimeout(timer);
        reject(new Error(`${method} ${this.baseUrl}${path}: stream closed before a response (code ${stream.rstCode})`));
      });
      stream.once("response", (h) => {
        clearTimeout(timer);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(h)) if (!k.startsWith(":") && v !== undefined) headers[k] = String(v);
        const text = () =>
          new Promise<string>((res, rej) => {
            const chunks: Buffer[] = [];
            stream.on("data", (c: Buffer) => chunks.push(c));
            stream.once("end", () => res(Buffer.concat(chunks).toString()));
            stream.once("error", rej);
          });
        resolve({ status: Number(h[":status"]), headers, stream, text, json: async () => JSON.parse(await text()) });
      });
      if (options.body !== undefined) stream.end(options.body);
    });
  }

  /** Convenience: JSON in, JSON out; throws with the server's message on a non-2xx status. */
  async json<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const res = await this.request(method, path, {
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { "content-type": "application/json", ...headers },
      timeoutMs: 30_000,
    });
    const text = await res.text();
    if (res.status < 200 || res.status > 299) {
      throw Object.assign(new Error(`${method} ${path}: ${res.status} ${text.trim()}`), { status: res.status, body: text });
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  close(): void {
    this.#session?.close();
    this.#session = undefined;
  }

  #connect(): http2.ClientHttp2Session {
    if (this.#session && !this.#session.closed && !this.#session.destroyed) return this.#session;
    // Ambit's parts trust only the mesh's own roots, never the system's public ones.
    if (this.baseUrl.startsWith("https:") && !this.tls.ca) throw new Error(`${this.baseUrl}: an https connection needs the CA roots to verify the server with`);
    const session = http2.connect(this.baseUrl, {
      ca: this.tls.ca,
      cert: this.tls.cert,
      key: this.tls.key,
      checkServerIdentity: this.tls.checkServerIdentity ?? (() => undefined),
      minVersion: "TLSv1.3",
    } as http2.SecureClientSessionOptions);
    session.on("error", () => {});
    session.on("close", () => {
      if (this.#session === session) this.#session = undefined;
    });
    session.on("goaway", () => {
      if (this.#session === session) this.#session = undefined;
    });
    this.#session = session;
    return session;
  }
}
