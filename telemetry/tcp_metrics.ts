import { type Metric, MetricsRegistry } from "./metrics.ts";

/** Istio's standard labels on TCP metrics, in Istio's order, so dashboards work unchanged. */
export const TCP_LABELS = [
  "reporter",
  "source_workload",
  "source_canonical_service",
  "source_canonical_revision",
  "source_workload_namespace",
  "source_principal",
  "source_app",
  "source_version",
  "source_cluster",
  "destination_service",
  "destination_service_namespace",
  "destination_service_name",
  "destination_workload",
  "destination_canonical_service",
  "destination_canonical_revision",
  "destination_workload_namespace",
  "destination_principal",
  "destination_app",
  "destination_version",
  "destination_cluster",
  "request_protocol",
  "response_flags",
  "connection_security_policy",
] as const;

/** Label values for one connection; what is unknown is left out and rendered "unknown". */
export type TcpLabels = Partial<Record<(typeof TCP_LABELS)[number], string>>;

/** The four Istio TCP counters plus istio_build, in one registry. */
export class TcpMetrics {
  readonly registry: MetricsRegistry;
  readonly opened: Metric;
  readonly closed: Metric;
  readonly sent: Metric;
  readonly received: Metric;

  constructor(component: string, version: string, registry = new MetricsRegistry()) {
    this.registry = registry;
    this.opened = registry.counter("istio_tcp_connections_opened_total", "The total number of TCP connections opened", TCP_LABELS);
    this.closed = registry.counter("istio_tcp_connections_closed_total", "The total number of TCP connections closed", TCP_LABELS);
    this.sent = registry.counter("istio_tcp_sent_bytes_total", "The size of total bytes sent during request in case of a TCP connection", TCP_LABELS);
    this.received = registry.counter("istio_tcp_received_bytes_total", "The size of total bytes received during request in case of a TCP connection", TCP_LABELS);
    registry.gauge("istio_build", "Istio component build info", ["component", "tag"]).set({ component, tag: version }, 1);
  }

  /** Counts a connection as opened. */
  connectionOpened(labels: TcpLabels): void {
    this.opened.inc(labels);
  }

  /** Counts a connection as closed with the bytes it moved. */
  connectionClosed(labels: TcpLabels, bytesSent: number, bytesReceived: number): void {
    this.closed.inc(labels);
    this.sent.inc(labels, bytesSent);
    this.received.inc(labels, bytesReceived);
  }
}
