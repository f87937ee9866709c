// Port 15001: outbound connections nftables redirected here from a captured
// workload (docs/capture.md). The original destination comes from the kernel,
// the source workload from who owns the client socket; then the connection
// takes the same path as a SOCKS5 one (outbound.handlerFor), so policy, HBONE
// and passthrough behave the same. Listens on loopback only: a redirect made on
// this host lands there, and nothing from the network can.
import * as net from "node:net";
import { copyBidirectional, formatAuthority, type SocketAddress } from "../hbone/mod.ts";
import type { Endpoint, OriginalDestinationReader } from "../runtime/mod.ts";
import type { Logger } from "../telemetry/mod.ts";
import type { Workload } from "../xds/resources.ts";
import type { SocksConnectHandler } from "./socks5.ts";
import { TcpListener } from "./tcp_listener.ts";

/** What the capture listener needs from the ztunnel. */
export interface CaptureOutboundDeps {
  /** The workloads this node captures, looked up per connection. */
  readonly localWorkloads: () => readonly Workload[];
  readonly handlerFor: (source: Workload) => SocksConnectHandler;
  readonly originalDestination: OriginalDestinationReader;
  readonly ownerOf: (client: Endpoint, remote: Endpoint) => Promise<number | undefined>;
  readonly log: Logger;
}

/**
 * The captured workload a client socket belongs to: the one whose capture
 * names the socket's owner. A pure decision over the node's workloads.
 */
export function capturedSource(workloads: readonly Workload[], owner: number | undefined): Workload | undefined {
  if (owner === undefined) return undefined;
  return workloads.find((w) => w.capture?.mode === "owner" && w.capture.uid === owner && w.tunnelProtocol === "HBONE");
}

/** The outbound capture listener of one node. */
export class CaptureOutboundListener {
  readonly #listener = new TcpListener((s) => {
    s.pause();
    void this.#proxy(s).catch((e) => {
      this.deps.log.debug("capture", "connection failed", { error: (e as Error).message });
      s.destroy();
    });
  });

  constructor(private readonly deps: CaptureOutboundDeps) {}

  /** Binds (loopback) and resolves with the bound address. */
  listen(address: string, port: number): Promise<SocketAddress> {
    return this.#listener.listen(address, port);
  }

  stopAccepting(): Promise<void> {
    return this.#listener.stopAccepting();
  }

  close(): void {
    this.#listener.close();
  }

  async #proxy(socket: net.Socket): Promise<void> {
    const client = { address: (socket.remoteAddress ?? "").replace(/^::ffff:/, ""), port: socket.remotePort ?? 0 };
    const refuse = (message: string, fields: Record<string, unknown> = {}) => {
      this.deps.log.info("capture", "connection refused", { "src.addr": formatAuthority(client), ...fields, error: message });
      socket.destroy();
    };
    const target = await this.deps.originalDestination(socket);
    // Dialled directly rather than redirected: nothing says where it was going.
    if (!target) return refuse("no original destination (not a redirected connection)");
    const owner = await this.deps.ownerOf(client, target);
    const source = capturedSource(this.deps.localWorkloads(), owner);
    if (!source) return refuse(`no captured workload owns the client socket (uid ${owner ?? "unknown"})`, { "dst.addr": formatAuthority(target) });
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
