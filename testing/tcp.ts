import * as net from "node:net";
import { createHash } from "node:crypto";

/** A running TCP test server. */
export interface TestServer {
  readonly address: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: () => number;
  close(): Promise<void>;
}

/**
 * An echo server: returns every byte, and answers a FIN with a FIN once all is
 * echoed (so half-close is observable end to end).
 */
export function startEchoServer(address: string, port = 0): Promise<TestServer> {
  return startServer(address, port, (s) => s.pipe(s));
}

/** A server that writes `reply` to each connection and closes it. */
export function startReplyServer(address: string, reply: string, port = 0): Promise<TestServer> {
  return startServer(address, port, (s) => {
    s.on("data", () => {});
    s.end(reply);
  });
}

function startServer(address: string, port: number, onConnection: (s: net.Socket) => void): Promise<TestServer> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    accepted++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
    onConnection(s);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => {
      resolve({
        address,
        port: (server.address() as net.AddressInfo).port,
        accepted: () => accepted,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

/** The deterministic test pattern: byte i is i % 251. */
export function patternBytes(length: number, offset = 0): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = (i + offset) % 251;
  return b;
}

/** Sends `total` pattern bytes into a duplex, ends it, and collects what comes back. */
export async function exchange(
  duplex: NodeJS.ReadWriteStream,
  total: number,
): Promise<{ sentSha256: string; received: number; receivedSha256: string }> {
  const sent = createHash("sha256");
  const recv = createHash("sha256");
  let received = 0;
  const done = new Promise<void>((resolve, reject) => {
    duplex.on("data", (c: Buffer) => {
      received += c.length;
      recv.update(c);
    });
    duplex.on("end", () => resolve());
    duplex.on("error", reject);
  });
  const chunk = 64 * 1024;
  for (let off = 0; off < total; off += chunk) {
    const piece = patternBytes(Math.min(chunk, total - off), off);
    sent.update(piece);
    if (!duplex.write(piece)) await new Promise((r) => duplex.once("drain", r));
  }
  duplex.end();
  await done;
  return { sentSha256: sent.digest("hex"), received, receivedSha256: recv.digest("hex") };
}
