// Serves a fetch handler (a Hono app) over HTTP/2: TLS with optional client
// certificates, or cleartext h2c for a loopback dev listener. node:http2 is the
// one HTTP server on both Bun and Deno that hands over the peer's certificate
// (Bun's node:https and Bun.serve do not), which node-authenticated endpoints need.
import * as http2 from "node:http2";
import type { TLSSocket } from "node:tls";

/** What a handler learns about the connection, passed as the fetch env. */
export interface Http2PeerInfo {
  readonly remoteAddress: string;
  /** The client certificate's subjectAltName string, when one was presented and verified. */
  readonly peerSubjectAltName?: string;
  /** The client certificate's serial number (hex), when one was presented and verified. */
  readonly peerSerialNumber?: string;
}

/** Options for {@link serveHttp2}. */
export interface ServeHttp2Options {
  readonly hostname: string;
  readonly port: number;
  readonly fetch: (request: Request, env: Http2PeerInfo) => Response | Promise<Response>;
  /** TLS material; without it the listener speaks cleartext h2c. */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca?: string };
  /** Largest request body accepted, bytes. Default 8 MiB. */
  readonly maxBodyBytes?: number;
}

/** A running HTTP/2 listener. */
export interface Http2Listener {
  readonly hostname: string;
  readonly port: number;
  setCertificate(tls: { cert: string; key: string; ca?: string }): void;
  close(): Promise<void>;
}

/** Starts an HTTP/2 listener for a fetch handler. */
export async function serveHttp2(options: ServeHttp2Options): Promise<Http2Listener> {
  const server = options.tls
    ? http2.createSecureServer({ ...options.tls, requestCert: true, rejectUnauthorized: false, minVersion: "TLSv1.3", ALPNProtocols: ["h2"] })
    : http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
    s.on("error", () => {});
  });
  server.on("stream", (stream, headers) => void handle(stream as http2.ServerHttp2Stream, headers, options));
  (server as { on(e: string, f: () => void): void }).on("tlsClientError", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    hostname: options.hostname,
    port,
    setCertificate: (tls) => (server as http2.Http2SecureServer).setSecureContext?.({ ...tls }),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sessions) s.destroy();
        server.close(() => r());
      }),
  };
}

async function handle(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, options: ServeHttp2Options): Promise<void> {
  stream.on("error", () => {});
  const socket = stream.session?.socket as TLSSocket | undefined;
  // session.socket is a proxy on some runtimes: read properties, don't use `in`.
  const authorized = (socket as { authorized?: boolean } | undefined)?.authorized === true;
  const peer = authorized ? socket!.getPeerCertificate() : undefined;
  const env: Http2PeerInfo = { remoteAddress: socket?.remoteAddress ?? "", peerSubjectAltName: peer?.subjectaltname, peerSerialNumber: peer?.serialNumber };
  const method = String(headers[":method"] ?? "GET");
  const url = `${options.tls ? "https" : "http"}://${headers[":authority"] ?? options.hostname}${headers[":path"] ?? "/"}`;
  const reqHeaders = new Headers();
  for (const [k, v] of Object.entries(headers)) {
    if (k.startsWith(":") || v === undefined) continue;
    reqHeaders.set(k, Array.isArray(v) ? v.join(", ") : String(v));
  }
  let body: Uint8Array | undefined;
  if (method !== "GET" && method !== "HEAD") {
    const limit = options.maxBodyBytes ?? 8 * 1024 * 1024;
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const c of stream) {
        size += (c as Buffer).length;
        if (size > limit) {
          respondText(stream, 413, `request body larger than ${limit} bytes\n`);
          return;
        }
        chunks.push(c as Buffer);
      }
    } catch {
      return;
    }
    body = Buffer.concat(chunks);
  }
  let response: Response;
  try {
    response = await options.fetch(new Request(url, { method, headers: reqHeaders, body: body as BodyInit | undefined }), env);
  } catch (e) {
    respondText(stream, 500, `internal error: ${(e as Error).message}\n`);
    return;
  }
  if (stream.destroyed) return;
  const out: http2.OutgoingHttpHeaders = { ":status": response.status };
  response.headers.forEach((v, k) => {
    if (k !== "connection" && k !== "transfer-encoding" && k !== "keep-alive") out[k] = v;
  });
  if (!response.body) {
    stream.respond(out, { endStream: true });
    return;
  }
  stream.respond(out);
  const reader = response.body.getReader();
  stream.on("close", () => void reader.cancel().catch(() => {}));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (stream.destroyed) return;
      if (!stream.write(value)) await new Promise((r) => stream.once("drain", r));
    }
    stream.end();
  } catch {
    stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  }
}

function respondText(stream: http2.ServerHttp2Stream, status: number, text: string): void {
  if (stream.destroyed) return;
  stream.respond({ ":status": status, "content-type": "text/plain" });
  stream.end(text);
}
