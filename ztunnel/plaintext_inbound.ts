// Port 15006 on each workload address: plaintext connections from clients that
// do not speak HBONE. PeerAuthentication decides whether they may in: STRICT
// refuses them (a policy with no principal cannot match), PERMISSIVE lets them in.
// The original destination port comes from the kernel when capture redirected
// the connection here (docs/capture.md), else from a PROXY v1 header when the
// client sends one, else it is the workload's only service target port.
import * as net from "node:net";
import { copyBidirectional, type SocketAddress } from "../hbone/mod.ts";
import type { OriginalDestinationReader } from "../runtime/mod.ts";
import type { Logger } from "../telemetry/mod.ts";
import type { Inbound } from "./inbound.ts";
import { parseProxyV1 } from "./proxy_protocol.ts";
import type { ProxyState } from "./state.ts";

/** A plaintext listener for one workload address. */
export class PlaintextListener {
  readonly #server: net.Server;

  constructor(private readonly workloadAddress: string, private readonly inbound: Inbound, private readonly state: () => ProxyState, private readonly log: Logger, private readonly originalDestination?: OriginalDestinationReader) {
    this.#server = net.createServer({ allowHalfOpen: true, noDelay: true }, (s) => void this.#accept(s).catch(() => s.destroy()));
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, this.workloadAddress, () => resolve());
    });
  }

  stopAccepting(): Promise<void> {
    return new Promise((r) => this.#server.close(() => r()));
  }

  async #accept(socket: net.Socket): Promise<void> {
    socket.on("error", () => {});
    const peer = { address: socket.remoteAddress?.replace(/^::ffff:/, "") ?? "", port: socket.remotePort ?? 0 };
    const captured = await this.originalDestination?.(socket);
    // Only a redirect to this workload's own address names one of its ports.
    const { port, rest } = captured && captured.address === this.workloadAddress ? { port: captured.port, rest: Buffer.alloc(0) } : await this.#destinationPort(socket);
    if (port === undefined) {
      this.log.info("plaintext", "connection refused: no destination port", { "src.addr": peer.address, "dst.addr": this.workloadAddress });
      socket.destroy();
      return;
    }
    const destination: SocketAddress = { address: this.workloadAddress, port };
    let admitted;
    try {
      admitted = await this.inbound.openPlaintext(peer, destination);
    } catch (e) {
      this.log.debug("plaintext", "connection refused", { "src.addr": peer.address, error: (e as Error).message });
      socket.destroy();
      return;
    }
    if (rest.length > 0) socket.unshift(rest);
    socket.resume();
    const result = await copyBidirectional(socket, admitted.upstream, admitted.bytes);
    admitted.finish(result.sent, result.received, result.error?.message);
  }

  /** Reads an optional PROXY header (up to 1 s); returns the port and any bytes read beyond it. */
  #destinationPort(socket: net.Socket): Promise<{ port?: number; rest: Buffer }> {
    return new Promise((resolve) => {
      let buf = Buffer.alloc(0);
      const done = (port: number | undefined, rest: Buffer) => {
        clearTimeout(timer);
        socket.off("data", onData);
        socket.pause();
        resolve({ port, rest });
      };
      const fallback = () => this.#onlyTargetPort();
      const onData = (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        const r = parseProxyV1(buf);
        if (r.kind === "more") return;
        if (r.kind === "ok") {
          const dst = r.header?.destination;
          const port = dst && dst.address.replace(/^::ffff:/, "") === this.workloadAddress ? dst.port : r.header ? undefined : fallback();
          return done(port, buf.subarray(r.consumed));
        }
        done(r.kind === "none" ? fallback() : undefined, buf);
      };
      // A client that speaks first with its own protocol sends bytes at once; a silent one gets the fallback.
      const timer = setTimeout(() => done(fallback(), buf), 1000);
      socket.on("data", onData);
    });
  }

  #onlyTargetPort(): number | undefined {
    const w = this.state().findWorkload(this.workloadAddress);
    const ports = new Set(Object.values(w?.services ?? {}).flatMap((m) => Object.entries(m).map(([p, t]) => t || Number(p))));
    return ports.size === 1 ? [...ports][0] : undefined;
  }
}
