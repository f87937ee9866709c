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
  /** Largest request body accepted, bytes, when `admit` does not say. Default 8 MiB. */
  readonly maxBodyBytes?: number;
  /**
   * Decides from the head alone (method, path, headers, peer) whether a request
   * may send its body, and how large: called before one byte of the body is
   * read, so an unauthenticated caller costs no more than its headers.
   */
  readonly admit?: (head: RequestHead, env: Http2PeerInfo) => Admission;
  /** Streams one connection may have open at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS). Default 100. */
  readonly maxStreamsPerConnection?: number;
  /** Connections one peer address may hold at once; more are closed at once. Default 64. */
  readonly maxConnectionsPerPeer?: number;
  /**
   * Every this often each connection is PINGed; one that does not answer within
   * the same time is closed (a silent partition ends its streams). Default 0: off.
   */
  readonly pingIntervalMs?: number;
}

/** A request before its body: what {@link ServeHttp2Options.admit} decides on. */
export interface RequestHead {
  readonly method: string;
  readonly path: string;
  readonly headers: Headers;
}

/** The answer of {@link ServeHttp2Options.admit}: a body limit, or a refusal sent without reading the body. */
export type Admission = { readonly maxBodyBytes: number } | { readonly refuse: { readonly status: number; readonly error: string } };

/** A running HTTP/2 listener. */
export interface Http2Listener {
  readonly hostname: string;
  readonly port: number;
  setCertificate(tls: { cert: string; key: string; ca?: string }): void;
  close(): Promise<void>;
}

/** Starts an HTTP/2 listener for a fetch handler. */
export async function serveHttp2(options: ServeHttp2Options): Promise<Http2Listener> {
  const settings = { maxConcurrentStreams: options.maxStreamsPerConnection ?? 100 };
  const server = options.tls
    ? http2.createSecureServer({ ...options.tls, requestCert: true, rejectUnauthorized: false, minVersion: "TLSv1.3", ALPNProtocols: ["h2"], settings, handshakeTimeout: 10_000 })
    : http2.createServer({ settings });
  const sessions = new Set<http2.ServerHttp2Session>();
  const perPeer = new Map<string, number>();
  server.on("session", (s) => {
    s.on("error", () => {});
    const peer = s.socket?.remoteAddress ?? "";
    const held = perPeer.get(peer) ?? 0;
    if (held >= (options.maxConnectionsPerPeer ?? 64)) {
      s.destroy();
      return;
    }
    perPeer.set(peer, held + 1);
    sessions.add(s);
    const stopPinging = options.pingIntervalMs ? keepPinging(s, options.pingIntervalMs) : () => {};
    s.on("close", () => {
      stopPinging();
      sessions.delete(s);
      const left = (perPeer.get(peer) ?? 1) - 1;
      if (left > 0) perPeer.set(peer, left);
      else perPeer.delete(peer);
    });
  });
  // The SETTINGS limit is advertised, but not every runtime's server enforces it: count here as well.
  const openStreams = new WeakMap<http2.Http2Session, number>();
  server.on("stream", (stream, headers) => {
    const session = stream.session;
    const open = (session && openStreams.get(session)) ?? 0;
    if (session && open >= settings.maxConcurrentStreams) {
      stream.on("error", () => {});
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    if (session) openStreams.set(session, open + 1);
    stream.once("close", () => session && openStreams.set(session, (openStreams.get(session) ?? 1) - 1));
    // A handler error (a stream reset between our check and respond(), say) must end that stream, never
    // the process: an unhandled rejection stops Deno and Node.
    handle(stream as http2.ServerHttp2Stream, headers, options).catch(() => {
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    });
  });
  server.on("sessionError", () => {});
  (server as { on(e: string, f: () => void): void }).on("tlsClientError", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => resolve());
  });
  // After listening, an error is one connection's (Deno's polyfill emits some on the server): never fatal.
  server.on("error", () => {});
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
  const path = String(headers[":path"] ?? "/");
  const admission = options.admit?.({ method, path, headers: reqHeaders }, env) ?? { maxBodyBytes: options.maxBodyBytes ?? 8 * 1024 * 1024 };
  if ("refuse" in admission) {
    respondJson(stream, admission.refuse.status, { error: admission.refuse.error });
    return;
  }
  let body: Uint8Array | undefined;
  if (method !== "GET" && method !== "HEAD") {
    const limit = admission.maxBodyBytes;
    if (Number(headers["content-length"] ?? 0) > limit) {
      respondJson(stream, 413, { error: `request body larger than ${limit} bytes` });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const c of stream) {
        size += (c as Buffer).length;
        if (size > limit) {
          respondJson(stream, 413, { error: `request body larger than ${limit} bytes` });
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

/**
 * Answers before the body is read, then resets the stream (NO_ERROR, as RFC 9113
 * 8.1 allows) so the client stops sending the rest rather than the server reading it.
 */
function respondJson(stream: http2.ServerHttp2Stream, status: number, body: unknown): void {
  if (stream.destroyed) return;
  stream.respond({ ":status": status, "content-type": "application/json" });
  stream.end(JSON.stringify(body));
  stream.once("finish", () => stream.close(http2.constants.NGHTTP2_NO_ERROR));
}

/** PINGs a connection every `intervalMs`; one that leaves a PING unanswered for as long is destroyed. */
function keepPinging(session: http2.ServerHttp2Session, intervalMs: number): () => void {
  let outstanding = false;
  const timer = setInterval(() => {
    if (outstanding) {
      session.destroy(new Error(`no PING answer in ${intervalMs} ms`));
      return;
    }
    outstanding = true;
    try {
      session.ping((err) => {
        if (!err) outstanding = false;
      });
    } catch {
      // the session is closing
    }
  }, intervalMs);
  (timer as { unref?: () => void }).unref?.();
  return () => clearInterval(timer);
}
