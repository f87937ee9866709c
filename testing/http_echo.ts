// An HTTP echo backend for waypoint tests, in the style of the Gateway API
// conformance echo server: every request is answered with JSON naming the
// backend and what arrived (method, path, host, headers, body size). One port
// speaks HTTP/1.1 and h2c (told apart by the HTTP/2 preface); an Upgrade:
// websocket is accepted and each text/binary frame is echoed back.
import * as crypto from "node:crypto";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { Duplex } from "node:stream";

/** What the echo backend answers with. */
export interface EchoedRequest {
  readonly backend: string;
  readonly method: string;
  readonly path: string;
  readonly host: string;
  readonly protocol: string;
  readonly headers: Record<string, string | string[]>;
  readonly bodyBytes: number;
  /** SHA-256 of the body as it arrived (hex), so a test can check it byte for byte. */
  readonly bodySha256: string;
}

/** A running echo backend. */
export interface HttpEchoServer {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** Requests seen, newest last. */
  readonly seen: EchoedRequest[];
  close(): Promise<void>;
}

/**
 * Starts an echo backend. Special paths: `/status/<code>` answers that code;
 * `/delay/<ms>` waits first; `/stream/<n>` sends n KiB in 1 KiB chunks;
 * `/reset` drops the connection (HTTP/1.1) or resets the stream (h2c) as soon
 * as the head has arrived, mid-body; `x-echo-set-<name>` request headers become
 * response headers.
 */
export function startHttpEcho(name: string, address: string, port = 0): Promise<HttpEchoServer> {
  const seen: EchoedRequest[] = [];
  const handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => {
    if (req.url === "/reset") return void ("stream" in req ? req.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR) : req.socket.destroy());
    let bodyBytes = 0;
    const digest = crypto.createHash("sha256");
    req.on("data", (c: Buffer) => {
      bodyBytes += c.length;
      digest.update(c);
    });
    req.on("end", async () => {
      const path = req.url ?? "/";
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !k.startsWith(":"))) as Record<string, string | string[]>;
      const host = String(req.headers[":authority"] ?? req.headers.host ?? "");
      const echoed: EchoedRequest = { backend: name, method: req.method ?? "", path, host, protocol: `HTTP/${req.httpVersion}`, headers, bodyBytes, bodySha256: digest.digest("hex") };
      seen.push(echoed);
      const delay = /^\/delay\/(\d+)/.exec(path);
      if (delay) await new Promise((r) => setTimeout(r, Number(delay[1])));
      const extra: Record<string, string> = {};
      for (const [k, v] of Object.entries(headers)) if (k.startsWith("x-echo-set-")) extra[k.slice("x-echo-set-".length)] = String(v);
      const status = /^\/status\/(\d{3})/.exec(path);
      const stream = /^\/stream\/(\d+)/.exec(path);
      const r = res as http.ServerResponse;
      if (stream) {
        r.writeHead(200, { "content-type": "application/octet-stream", "x-backend": name, ...extra });
        const chunk = Buffer.alloc(1024, 97);
        for (let i = 0; i < Number(stream[1]); i++) if (!r.write(chunk)) await new Promise((d) => r.once("drain", d));
        return r.end();
      }
      const body = JSON.stringify(echoed);
      r.writeHead(status ? Number(status[1]) : 200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), "x-backend": name, ...extra });
      r.end(body);
    });
  };
  const h1 = http.createServer(handler);
  h1.on("upgrade", (req: http.IncomingMessage, socket: Duplex) => acceptWebSocket(req, socket, name));
  const h2 = http2.createServer(handler);
  h2.on("sessionError", () => {});
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.once("data", (first: Buffer) => handOver(socket, first, first.subarray(0, 3).toString() === "PRI" ? h2 : h1));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => {
      resolve({
        name,
        address,
        port: (server.address() as net.AddressInfo).port,
        seen,
        close: () => new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          server.close(() => r());
        }),
      });
    });
  });
}

/**
 * Gives a socket whose first bytes were read (to tell h2c from HTTP/1.1) to
 * `server`, with those bytes, in order. Not with unshift() and resume(): Deno's
 * node:http server reads the socket's handle directly once it has it (its
 * parser "consume" path), so bytes that arrive next can reach the parser
 * before the unshifted ones, which are only replayed on a later tick — about
 * one request in five with a body over 16 KB then read body bytes as its head
 * and answered 400 (Node and Bun keep the order; a repro without Ambit code in
 * docs/waypoint.md). Here the bytes read so far go to the server's own 'data'
 * listener in the same turn it takes the socket, before any later read.
 */
function handOver(socket: net.Socket, first: Buffer, server: http.Server | http2.Http2Server): void {
  socket.pause();
  const read = [first];
  for (let chunk: Buffer | null; (chunk = socket.read() as Buffer | null) !== null;) read.push(chunk);
  server.emit("connection", socket);
  socket.emit("data", read.length === 1 ? first : Buffer.concat(read));
  socket.resume();
}

/** Answers a websocket handshake and echoes each data frame (RFC 6455, no extensions). */
function acceptWebSocket(req: http.IncomingMessage, socket: Duplex, name: string): void {
  const key = req.headers["sec-websocket-key"];
  if (req.headers.upgrade?.toLowerCase() !== "websocket" || typeof key !== "string") return void socket.end("HTTP/1.1 400 Bad Request\r\n\r\n");
  const accept = crypto.createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\nx-backend: ${name}\r\n\r\n`);
  let buf = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 2) return;
      const opcode = buf[0]! & 0x0f;
      let len = buf[1]! & 0x7f;
      let off = 2;
      if (len === 126) (len = buf.readUInt16BE(2), off = 4);
      else if (len === 127) (len = Number(buf.readBigUInt64BE(2)), off = 10);
      const masked = (buf[1]! & 0x80) !== 0;
      const total = off + (masked ? 4 : 0) + len;
      if (buf.length < total) return;
      const mask = masked ? buf.subarray(off, off + 4) : undefined;
      const payload = Buffer.from(buf.subarray(total - len, total));
      if (mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
      buf = buf.subarray(total);
      if (opcode === 0x8) return void socket.end(Buffer.from([0x88, 0]));
      const head = len < 126 ? Buffer.from([0x80 | opcode, len]) : Buffer.from([0x80 | opcode, 126, len >> 8, len & 0xff]);
      socket.write(Buffer.concat([head, payload]));
    }
  });
  socket.on("error", () => {});
}
