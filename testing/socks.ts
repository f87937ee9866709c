import * as net from "node:net";

/**
 * The outcome of a SOCKS5 CONNECT: the open socket (attach listeners right away;
 * it starts flowing on the next turn), or the reply code refusing it.
 */
export type SocksResult = { ok: true; socket: net.Socket } | { ok: false; reply: number | "closed" };

/**
 * Connects through a SOCKS5 proxy (no auth, CONNECT) to host:port; a host that
 * is not an IPv4 literal is sent as a domain name, as curl --socks5-hostname does.
 */
export function socksConnect(proxy: { address: string; port: number }, host: string, port: number, timeoutMs = 10_000): Promise<SocksResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: proxy.address, port: proxy.port, allowHalfOpen: true, noDelay: true });
    let buf = Buffer.alloc(0);
    let stage: "method" | "reply" = "method";
    const timer = setTimeout(() => finish({ ok: false, reply: "closed" }), timeoutMs);
    const finish = (r: SocksResult) => {
      clearTimeout(timer);
      socket.off("data", onData);
      if (!r.ok) socket.destroy();
      resolve(r);
    };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (stage === "method" && buf.length >= 2) {
        if (buf[1] !== 0) return finish({ ok: false, reply: buf[1]! });
        buf = buf.subarray(2);
        stage = "reply";
        const v4 = net.isIPv4(host);
        const addr = v4 ? Buffer.from([1, ...host.split(".").map(Number)]) : Buffer.concat([Buffer.from([3, host.length]), Buffer.from(host)]);
        socket.write(Buffer.concat([Buffer.from([5, 1, 0]), addr, Buffer.from([port >> 8, port & 0xff])]));
      }
      if (stage === "reply" && buf.length >= 10) {
        if (buf[1] !== 0) return finish({ ok: false, reply: buf[1]! });
        const rest = buf.subarray(10);
        // Stop reading first: unshift() inside a data handler would feed it again.
        socket.pause();
        finish({ ok: true, socket });
        if (rest.length > 0) socket.unshift(rest);
        // Resume once the caller has attached its listeners.
        setImmediate(() => socket.resume());
      }
    };
    socket.on("data", onData);
    socket.on("error", () => finish({ ok: false, reply: "closed" }));
    socket.on("close", () => finish({ ok: false, reply: "closed" }));
    socket.once("connect", () => socket.write(Buffer.from([5, 1, 0])));
  });
}

/** Reads a socket to its end and returns the text. */
export function readAll(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("end", () => resolve(Buffer.concat(chunks).toString()));
    socket.on("error", reject);
  });
}
