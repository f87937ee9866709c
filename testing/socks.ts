import * as net from "node:net";
import { socksCredentialsAt } from "./socks_credentials.ts";

/**
 * The outcome of a SOCKS5 CONNECT: the open socket (attach listeners right away;
 * it starts flowing on the next turn), or the reply code refusing it.
 */
export type SocksResult = { ok: true; socket: net.Socket } | { ok: false; reply: number | "closed" | "auth" };

/** A SOCKS5 proxy, and how to authenticate to it. */
export interface SocksProxy {
  readonly address: string;
  readonly port: number;
  /**
   * Username/password (RFC 1929), or "none" to offer no authentication. Left
   * out: the credentials a registered ztunnel wrote for the workload at this
   * address (testing/socks_credentials.ts), else none.
   */
  readonly auth?: { readonly username: string; readonly password: string } | "none";
}

/**
 * Connects through a SOCKS5 proxy (CONNECT) to host:port; a host that is not an
 * IPv4 literal is sent as a domain name, as curl --socks5-hostname does. A
 * refused authentication resolves as `{ ok: false, reply: "auth" }` (or the
 * method byte 0xFF when the proxy accepts none of the methods offered).
 */
export function socksConnect(proxy: SocksProxy, host: string, port: number, timeoutMs = 10_000): Promise<SocksResult> {
  const auth = proxy.auth === "none" ? undefined : proxy.auth ?? socksCredentialsAt(proxy);
  return new Promise((resolve) => {
    const socket = net.connect({ host: proxy.address, port: proxy.port, allowHalfOpen: true, noDelay: true });
    let buf = Buffer.alloc(0);
    let stage: "method" | "auth" | "reply" = "method";
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
        if (buf[1] !== (auth ? 2 : 0)) return finish({ ok: false, reply: buf[1]! });
        buf = buf.subarray(2);
        stage = auth ? "auth" : "reply";
        if (auth) {
          const user = Buffer.from(auth.username);
          const pass = Buffer.from(auth.password);
          socket.write(Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([pass.length]), pass]));
        } else sendRequest();
      }
      if (stage === "auth" && buf.length >= 2) {
        if (buf[1] !== 0) return finish({ ok: false, reply: "auth" });
        buf = buf.subarray(2);
        stage = "reply";
        sendRequest();
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
    const sendRequest = () => {
      const v4 = net.isIPv4(host);
      const addr = v4 ? Buffer.from([1, ...host.split(".").map(Number)]) : Buffer.concat([Buffer.from([3, host.length]), Buffer.from(host)]);
      socket.write(Buffer.concat([Buffer.from([5, 1, 0]), addr, Buffer.from([port >> 8, port & 0xff])]));
    };
    socket.once("connect", () => socket.write(Buffer.from(auth ? [5, 1, 2] : [5, 1, 0])));
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
