// The HTTP engine over tunnels. Neither Bun.serve nor Deno.serve accepts a
// stream, so each tunnel the HBONE server terminates becomes one end of a
// duplex pair handed to node:http or node:http2 with emit("connection") — both
// runtimes support that (docs/waypoint.md has the comparison and figures).
// HTTP/2 is recognised by its connection preface (prior knowledge, h2c/gRPC);
// anything else is HTTP/1.1. A port declared TCP is carried as bytes.
import * as http from "node:http";
import * as http2 from "node:http2";
import type { Duplex } from "node:stream";
import { connectedPair } from "./duplex_pair.ts";
import type { InboundTunnel } from "../hbone/mod.ts";

/** What the engine knows of the connection a request came on. */
export interface DownstreamConnection {
  readonly tunnel: InboundTunnel;
  readonly id: number;
  /** Runs when the connection closes (upstream sessions are closed here). */
  readonly onClose: (() => void)[];
}

/** What the engine calls. */
export interface DownstreamHandlers {
  readonly request: (conn: DownstreamConnection, req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => void;
  readonly upgrade: (conn: DownstreamConnection, req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** A malformed request or HTTP/2 protocol error; `status` is what was answered (0: connection closed). */
  readonly protocolError: (conn: DownstreamConnection | undefined, kind: string, status: number) => void;
  /** A tunnel on a TCP port: carried as bytes to an endpoint. */
  readonly tcp: (conn: DownstreamConnection, socket: Duplex) => void;
}

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** node:http and node:http2 servers fed with tunnels instead of sockets. */
export class DownstreamEngine {
  readonly #h1: http.Server;
  readonly #h2: http2.Http2Server;
  readonly #byH1Socket = new WeakMap<object, DownstreamConnection>();
  readonly #byH2Session = new WeakMap<object, DownstreamConnection>();
  readonly #pendingH2: DownstreamConnection[] = [];
  readonly #open = new Set<Duplex>();
  #nextId = 1;

  constructor(private readonly handlers: DownstreamHandlers, options: { maxHeaderBytes: number; idleTimeoutMs: number }) {
    this.#h1 = http.createServer({ maxHeaderSize: options.maxHeaderBytes, keepAliveTimeout: 0, requestTimeout: 0, headersTimeout: 0 });
    // Deno's node:http closes a kept-alive connection after each response unless the server
    // is listening; this one never listens (tunnels are handed to it), so it says it is.
    Object.defineProperty(this.#h1, "listening", { get: () => true });
    this.#h1.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
      const conn = this.#byH1Socket.get(req.socket);
      if (conn) handlers.request(conn, req, res);
      else res.destroy();
    });
    // Envoy's default: the waypoint answers 100 Continue itself when the request goes upstream.
    this.#h1.on("checkContinue", (req: http.IncomingMessage, res: http.ServerResponse) => this.#h1.emit("request", req, res));
    this.#h1.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const conn = this.#byH1Socket.get(socket) ?? this.#byH1Socket.get(req.socket);
      if (conn) handlers.upgrade(conn, req, socket, head);
      else socket.destroy();
    });
    this.#h1.on("clientError", (e: Error & { code?: string }, socket: Duplex) => {
      const conn = this.#byH1Socket.get(socket);
      const status = e.code === "HPE_HEADER_OVERFLOW" || e.code === "ERR_HTTP_HEADER_OVERFLOW" ? 431 : 400;
      if (e.code === "ECONNRESET" || !socket.writable) {
        handlers.protocolError(conn, e.code ?? "reset", 0);
        return socket.destroy();
      }
      handlers.protocolError(conn, e.code ?? "bad request", status);
      socket.end(`HTTP/1.1 ${status} ${status === 431 ? "Request Header Fields Too Large" : "Bad Request"}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    });
    this.#h2 = http2.createServer({ maxSessionMemory: 16, settings: { maxConcurrentStreams: 1000, maxHeaderListSize: options.maxHeaderBytes } });
    this.#h2.on("session", (session: http2.ServerHttp2Session) => {
      const conn = this.#pendingH2.shift();
      if (!conn) return session.destroy();
      this.#byH2Session.set(session, conn);
      session.on("error", (e: Error & { code?: string }) => handlers.protocolError(conn, e.code ?? "h2 session error", 0));
      session.on("frameError", () => handlers.protocolError(conn, "h2 frame error", 0));
    });
    this.#h2.on("request", (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
      const conn = this.#byH2Session.get(req.stream.session as object);
      if (conn) handlers.request(conn, req, res);
      else req.stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    });
    this.#h2.on("sessionError", () => {});
    this.#h2.on("streamError", () => {});
  }

  /** Open downstream connections. */
  get openConnections(): number {
    return this.#open.size;
  }

  /**
   * Accepts one tunnel: returns the duplex the HBONE server copies the tunnel's
   * bytes into. `tcp` carries the bytes as they are (a TCP service port).
   */
  accept(tunnel: InboundTunnel, tcp: boolean): Duplex {
    const [outer, inner] = connectedPair();
    const conn: DownstreamConnection = { tunnel, id: this.#nextId++, onClose: [] };
    this.#open.add(inner);
    inner.once("close", () => {
      this.#open.delete(inner);
      for (const f of conn.onClose) f();
    });
    inner.on("error", () => {});
    adaptSocket(inner, tunnel);
    if (tcp) {
      this.handlers.tcp(conn, inner);
      return outer;
    }
    void sniff(inner).then((isH2) => {
      if (isH2) {
        this.#pendingH2.push(conn);
        this.#h2.emit("connection", inner);
      } else {
        this.#byH1Socket.set(inner, conn);
        this.#h1.emit("connection", inner);
      }
      // sniff() paused the socket to put its bytes back; the servers expect it flowing.
      inner.resume();
    }, () => inner.destroy());
    return outer;
  }

  /** Ends every downstream connection. */
  closeAll(): void {
    for (const s of this.#open) s.destroy();
  }
}

/** Reads until the first bytes tell HTTP/2's preface from anything else, then puts them back. */
function sniff(socket: Duplex): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, PREFACE.length);
      const prefix = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (prefix && n < PREFACE.length) return;
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.pause();
      socket.unshift(seen);
      resolve(prefix);
    };
    const onEnd = () => reject(new Error("closed before a request"));
    socket.on("data", onData);
    socket.once("end", onEnd);
  });
}

/** node:http asks its sockets for addresses and timers a duplex pair does not have. */
function adaptSocket(s: Duplex, tunnel: InboundTunnel): void {
  const x = s as Duplex & Record<string, unknown>;
  x.remoteAddress = tunnel.peer.address;
  x.remotePort = tunnel.peer.port;
  x.localAddress = tunnel.local.address;
  x.localPort = tunnel.local.port;
  x.encrypted = false;
  for (const m of ["setKeepAlive", "setNoDelay", "setTimeout", "ref", "unref"]) {
    if (typeof x[m] !== "function") x[m] = () => s;
  }
}
