// A TCP listener that keeps its accepted sockets, so draining can stop
// accepting first and close what is left later. Shared by the listeners that
// take a workload's connections (capture on 15001; SOCKS5 could use it too).
import * as net from "node:net";
import type { SocketAddress } from "../hbone/mod.ts";

/** A listener over `onSocket`, which owns each accepted socket. */
export class TcpListener {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();

  constructor(onSocket: (socket: net.Socket) => void) {
    this.#server = net.createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
      this.#sockets.add(s);
      s.on("close", () => this.#sockets.delete(s));
      s.on("error", () => {});
      onSocket(s);
    });
  }

  /** Binds and resolves with the bound address. */
  listen(address: string, port: number): Promise<SocketAddress> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, address, () => {
        this.#server.off("error", reject);
        const a = this.#server.address() as net.AddressInfo;
        resolve({ address: a.address, port: a.port });
      });
    });
  }

  /** Stops accepting; connections in progress continue. */
  stopAccepting(): Promise<void> {
    return new Promise((r) => this.#server.close(() => r()));
  }

  /** Stops accepting and closes every connection. */
  close(): void {
    this.#server.close();
    for (const s of this.#sockets) s.destroy();
  }
}
