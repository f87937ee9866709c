// What the ztunnel reports about one connection: Istio's TCP metrics, whose byte
// counters follow the copy while it runs, and one access-log line when it
// closes — each exactly once.
import { type ByteCounts, formatAuthority, type SocketAddress } from "../hbone/mod.ts";
import { formatSpiffeId } from "../identity/mod.ts";
import type { Logger, TcpConnectionMeter, TcpLabels, TcpMetrics } from "../telemetry/mod.ts";
import { type TrafficEnds, trafficLabels } from "./traffic_labels.ts";

/** The two ends of a connection as this ztunnel knows them, with their addresses. */
export interface ConnectionEnds extends TrafficEnds {
  readonly source: TrafficEnds["source"] & { readonly address: SocketAddress };
  readonly destination: TrafficEnds["destination"] & { readonly address: SocketAddress; readonly hboneAddress?: SocketAddress };
}

/** How a connection ended. */
export interface ConnectionOutcome {
  /** Bytes from source toward destination (the request direction). */
  readonly sent: number;
  /** Bytes from destination back to source (the response direction). */
  readonly received: number;
  readonly error?: string;
}

/**
 * One connection's report: counted as opened when made; its bytes read from
 * `bytes` (the copy's live counts, source side as `sent`) whenever metrics are
 * scraped; closed and logged once when {@link finish} is first called.
 */
export class ConnectionRecord {
  readonly #started = performance.now();
  readonly #labels: TcpLabels;
  readonly #meter: TcpConnectionMeter;
  #finished = false;

  constructor(readonly ends: ConnectionEnds, metrics: TcpMetrics, private readonly log: Logger, bytes: ByteCounts) {
    this.#labels = trafficLabels(ends);
    this.#meter = metrics.connectionOpened(this.#labels, () => ({ request: bytes.sent, response: bytes.received }));
  }

  finish(outcome: ConnectionOutcome): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#meter.close({ request: outcome.sent, response: outcome.received });
    const { source: s, destination: d } = this.ends;
    const outbound = this.ends.reporter === "source";
    this.log.info("access", "connection complete", {
      direction: outbound ? "outbound" : "inbound",
      "src.addr": formatAuthority(s.address),
      "src.workload": s.workload?.name ?? this.#labels.source_workload,
      "src.namespace": s.workload?.namespace ?? this.#labels.source_workload_namespace,
      "src.identity": s.identity ? formatSpiffeId(s.identity) : undefined,
      "dst.addr": formatAuthority(d.address),
      "dst.hbone_addr": d.hboneAddress ? formatAuthority(d.hboneAddress) : undefined,
      "dst.service": this.#labels.destination_service,
      "dst.workload": d.workload?.name,
      "dst.namespace": d.workload?.namespace,
      "dst.identity": this.ends.mutualTls ? this.#labels.destination_principal : undefined,
      // As ztunnel logs them: what this ztunnel sent to and received from its peer.
      bytes_sent: outbound ? outcome.sent : outcome.received,
      bytes_recv: outbound ? outcome.received : outcome.sent,
      duration: `${Math.round(performance.now() - this.#started)}ms`,
      error: outcome.error,
    });
  }
}
