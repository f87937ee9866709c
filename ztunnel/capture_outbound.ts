// Port 15001: outbound connections nftables sent here from a captured workload
// (docs/capture.md). Each workload captured by its owner has its own loopback
// listener (capture/ ownerCaptureAddress), so the listener names the source
// workload; the kernel names the original destination. Then the connection
// takes the same path as a SOCKS5 one (outbound.handlerFor), so policy, HBONE
// and passthrough behave the same. Loopback only: nothing from the network
// reaches these listeners.
import * as net from "node:net";
import { ownerCaptureAddress } from "../capture/mod.ts";
import { copyBidirectional, formatAuthority } from "../hbone/mod.ts";
import type { OriginalDestinationReader } from "../runtime/mod.ts";
import type { Logger } from "../telemetry/mod.ts";
import type { Workload } from "../xds/resources.ts";
import type { SocksConnectHandler } from "./socks5.ts";
import { TcpListener } from "./tcp_listener.ts";

/** What the capture listeners need from the ztunnel. */
export interface CaptureOutboundDeps {
  /** The workloads on this node, looked up per connection. */
  readonly localWorkloads: () => readonly Workload[];
  readonly handlerFor: (source: Workload) => SocksConnectHandler;
  readonly originalDestination: OriginalDestinationReader;
  readonly port: number;
  readonly log: Logger;
}

/** The workload on this node captured by owner `uid`: a pure decision over the node's workloads. */
export function capturedSource(workloads: readonly Workload[], uid: number): Workload | undefined {
  return workloads.find((w) => w.capture?.mode === "owner" && w.capture.uid === uid && w.tunnelProtocol === "HBONE");
}

/** The outbound capture listeners of one node, one per owner-captured workload. */
export class CaptureOutbound {
  readonly #listeners = new Map<number, TcpListener>();

  constructor(private readonly deps: CaptureOutboundDeps) {}

  /** Listens for every owner-captured workload on this node, and stops for those gone. */
  async reconcile(): Promise<void> {
    const uids = new Set(this.deps.localWorkloads().flatMap((w) => (w.capture?.mode === "owner" && w.tunnelProtocol === "HBONE" ? [w.capture.uid] : [])));
    for (const [uid, l] of this.#listeners) {
      if (uids.has(uid)) continue;
      this.#listeners.delete(uid);
      await l.stopAccepting();
    }
    for (const uid of uids) {
      const address = ownerCaptureAddress(uid);
      if (!address || this.#listeners.has(uid)) continue;
      const listener = new TcpListener((s) => this.#accept(s, uid));
      try {
        await listener.listen(address, this.deps.port);
      } catch (e) {
        this.deps.log.error("capture", "cannot listen for a captured workload", { uid, address, error: (e as Error).message });
        continue;
      }
      this.#listeners.set(uid, listener);
    }
  }

  stopAccepting(): Promise<void> {
    return Promise.all([...this.#listeners.values()].map((l) => l.stopAccepting())).then(() => {});
  }

  close(): void {
    for (const l of this.#listeners.values()) l.close();
  }

  #accept(socket: net.Socket, uid: number): void {
    socket.pause();
    void this.#proxy(socket, uid).catch((e) => {
      this.deps.log.debug("capture", "connection failed", { error: (e as Error).message });
      socket.destroy();
    });
  }

  async #proxy(socket: net.Socket, uid: number): Promise<void> {
    const client = { address: (socket.remoteAddress ?? "").replace(/^::ffff:/, ""), port: socket.remotePort ?? 0 };
    const refuse = (message: string, fields: Record<string, unknown> = {}) => {
      this.deps.log.info("capture", "connection refused", { "src.addr": formatAuthority(client), uid, ...fields, error: message });
      socket.destroy();
    };
    const target = await this.deps.originalDestination(socket);
    // Dialled directly rather than redirected: nothing says where it was going (and it must not loop back here).
    const direct = target && target.port === socket.localPort && target.address === socket.localAddress?.replace(/^::ffff:/, "");
    if (!target || direct) return refuse("no original destination (not a redirected connection)");
    const source = capturedSource(this.deps.localWorkloads(), uid);
    if (!source) return refuse(`no workload on this node is captured as uid ${uid}`, { "dst.addr": formatAuthority(target) });
    const request = { host: target.address, port: target.port, addressType: net.isIP(target.address) === 6 ? "ipv6" as const : "ipv4" as const };
    const outcome = await this.deps.handlerFor(source)(request, client);
    if ("reply" in outcome) return refuse(outcome.message, { "src.workload": source.name, "dst.addr": formatAuthority(target) });
    if (socket.destroyed) {
      outcome.upstream.destroy();
      outcome.onClosed({ sent: 0, received: 0, error: new Error("client went away before the upstream was ready") });
      return;
    }
    socket.resume();
    outcome.onClosed(await copyBidirectional(socket, outcome.upstream));
  }
}
