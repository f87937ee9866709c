import { type Metric, MetricsRegistry, type Series } from "./metrics.ts";

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

/**
 * A connection's bytes so far, as its copy loop moves them. The copy only adds
 * to these two numbers; the registry reads them when it is scraped, so the
 * counters move with the bytes at no cost per read.
 */
export interface TcpByteCounts {
  /** Request direction: client → server (source → destination). */
  readonly request: number;
  /** Response direction: server → client. */
  readonly response: number;
}

/** One open connection's place in the metrics; {@link close} once. */
export interface TcpConnectionMeter {
  /** Counts the connection closed; `final` is what was copied in all. */
  close(final: TcpByteCounts): void;
}

interface OpenConnection {
  readonly bytes: () => TcpByteCounts;
  readonly received: Series;
  readonly sent: Series;
  request: number;
  response: number;
}

/**
 * Istio's TCP counters plus istio_build, in one registry. Bytes follow Istio's
 * convention for both reporters: `istio_tcp_received_bytes_total` counts the
 * request direction (client → server), `istio_tcp_sent_bytes_total` the response.
 */
export class TcpMetrics {
  readonly registry: MetricsRegistry;
  readonly opened: Metric;
  readonly closed: Metric;
  readonly sent: Metric;
  readonly received: Metric;
  readonly #open = new Set<OpenConnection>();

  constructor(component: string, version: string, registry = new MetricsRegistry()) {
    this.registry = registry;
    this.opened = registry.counter("istio_tcp_connections_opened_total", "The total number of TCP connections opened", TCP_LABELS);
    this.closed = registry.counter("istio_tcp_connections_closed_total", "The total number of TCP connections closed", TCP_LABELS);
    this.received = registry.counter(
      "istio_tcp_received_bytes_total",
      "The size of total bytes received during request in case of a TCP connection: the request direction, client to server, for both reporters; counted as the bytes are copied",
      TCP_LABELS,
    );
    this.sent = registry.counter(
      "istio_tcp_sent_bytes_total",
      "The size of total bytes sent during response in case of a TCP connection: the response direction, server to client, for both reporters; counted as the bytes are copied",
      TCP_LABELS,
    );
    registry.gauge("istio_build", "Istio component build info", ["component", "tag"]).set({ component, tag: version }, 1);
    registry.onCollect(() => this.#collect());
  }

  /** Counts a connection as opened; its bytes are read from `bytes` at every scrape until it closes. */
  connectionOpened(labels: TcpLabels, bytes: () => TcpByteCounts): TcpConnectionMeter {
    this.opened.inc(labels);
    const c: OpenConnection = { bytes, received: this.received.series(labels), sent: this.sent.series(labels), request: 0, response: 0 };
    this.#open.add(c);
    return {
      close: (final) => {
        if (!this.#open.delete(c)) return;
        this.#advance(c, final);
        this.closed.inc(labels);
      },
    };
  }

  /** Connections open now (their bytes are still moving). */
  get openConnections(): number {
    return this.#open.size;
  }

  #collect(): void {
    for (const c of this.#open) this.#advance(c, c.bytes());
  }

  /** Adds what moved since the last look; counters never go back. */
  #advance(c: OpenConnection, now: TcpByteCounts): void {
    if (now.request > c.request) {
      c.received.value += now.request - c.request;
      c.request = now.request;
    }
    if (now.response > c.response) {
      c.sent.value += now.response - c.response;
      c.response = now.response;
    }
  }
}
