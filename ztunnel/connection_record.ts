// What the ztunnel reports about one connection: Istio's TCP metrics as it opens
// and closes, and one access-log line when it closes — each exactly once.
import { formatAuthority, type SocketAddress } from "../hbone/mod.ts";
import { formatSpiffeId, type SpiffeId } from "../identity/mod.ts";
import type { Logger, TcpLabels, TcpMetrics } from "../telemetry/mod.ts";
import type { Service, Workload } from "../xds/resources.ts";

/** The two ends of a connection as this ztunnel knows them. */
export interface ConnectionEnds {
  readonly direction: "inbound" | "outbound";
  readonly source: {
    readonly address: SocketAddress;
    readonly workload?: Workload;
    readonly identity?: SpiffeId;
    /** From the HBONE `baggage` header, when the source workload is not in our state. */
    readonly baggage?: Readonly<Record<string, string>>;
  };
  readonly destination: {
    readonly address: SocketAddress;
    readonly hboneAddress?: SocketAddress;
    readonly workload?: Workload;
    readonly service?: Service;
    readonly identity?: SpiffeId;
  };
  /** mutual TLS (HBONE or the same-node hand-off, where both identities are known). */
  readonly mutualTls: boolean;
}

/** Istio's standard TCP labels for a connection. */
export function tcpLabels(ends: ConnectionEnds): TcpLabels {
  const s = ends.source;
  const d = ends.destination;
  const b = s.baggage ?? {};
  const sw = s.workload;
  const dw = d.workload;
  return {
    reporter: ends.direction === "outbound" ? "source" : "destination",
    source_workload: sw ? sw.workloadName || sw.name : b["k8s.deployment.name"] ?? b["k8s.pod.name"],
    source_canonical_service: sw ? sw.canonicalName || sw.workloadName || sw.name : b["service.name"],
    source_canonical_revision: sw ? sw.canonicalRevision || "latest" : b["service.version"],
    source_workload_namespace: sw?.namespace ?? b["k8s.namespace.name"] ?? s.identity?.namespace,
    source_principal: s.identity ? formatSpiffeId(s.identity) : undefined,
    source_app: sw ? sw.canonicalName || sw.workloadName || sw.name : b["service.name"],
    source_version: sw ? sw.canonicalRevision || undefined : b["service.version"],
    source_cluster: sw?.clusterId ?? b["k8s.cluster.name"],
    destination_service: d.service?.hostname,
    destination_service_namespace: d.service?.namespace,
    destination_service_name: d.service?.name,
    destination_workload: dw ? dw.workloadName || dw.name : undefined,
    destination_canonical_service: dw ? dw.canonicalName || dw.workloadName || dw.name : undefined,
    destination_canonical_revision: dw ? dw.canonicalRevision || "latest" : undefined,
    destination_workload_namespace: dw?.namespace,
    destination_principal: d.identity ? formatSpiffeId(d.identity) : undefined,
    destination_app: dw ? dw.canonicalName || dw.workloadName || dw.name : undefined,
    destination_version: dw ? dw.canonicalRevision || undefined : undefined,
    destination_cluster: dw?.clusterId,
    request_protocol: "tcp",
    response_flags: "-",
    connection_security_policy: ends.mutualTls ? "mutual_tls" : "none",
  };
}

/** How a connection ended. */
export interface ConnectionOutcome {
  /** Bytes from source toward destination. */
  readonly sent: number;
  /** Bytes from destination back to source. */
  readonly received: number;
  readonly error?: string;
}

/**
 * One connection's report: counted as opened when made, closed with its bytes
 * and logged once when {@link finish} is first called.
 */
export class ConnectionRecord {
  readonly #started = performance.now();
  readonly #labels: TcpLabels;
  #finished = false;

  constructor(readonly ends: ConnectionEnds, private readonly metrics: TcpMetrics, private readonly log: Logger) {
    this.#labels = tcpLabels(ends);
    metrics.connectionOpened(this.#labels);
  }

  finish(outcome: ConnectionOutcome): void {
    if (this.#finished) return;
    this.#finished = true;
    this.metrics.connectionClosed(this.#labels, outcome.sent, outcome.received);
    const { source: s, destination: d } = this.ends;
    this.log.info("access", "connection complete", {
      direction: this.ends.direction,
      "src.addr": formatAuthority(s.address),
      "src.workload": s.workload?.name ?? this.#labels.source_workload,
      "src.namespace": s.workload?.namespace ?? this.#labels.source_workload_namespace,
      "src.identity": s.identity ? formatSpiffeId(s.identity) : undefined,
      "dst.addr": formatAuthority(d.address),
      "dst.hbone_addr": d.hboneAddress ? formatAuthority(d.hboneAddress) : undefined,
      "dst.service": d.service?.hostname,
      "dst.workload": d.workload?.name,
      "dst.namespace": d.workload?.namespace,
      "dst.identity": d.identity ? formatSpiffeId(d.identity) : undefined,
      bytes_sent: outcome.sent,
      bytes_recv: outcome.received,
      duration: `${Math.round(performance.now() - this.#started)}ms`,
      error: outcome.error,
    });
  }
}
