/**
 * Istio's request metrics, as a waypoint (or any L7 reporter) emits them:
 * `istio_requests_total`, the `istio_request_duration_milliseconds`,
 * `istio_request_bytes` and `istio_response_bytes` histograms, with Istio's
 * standard labels plus `response_code`, `grpc_response_status` and
 * `response_flags`, so Kiali and Grafana dashboards work unchanged.
 *
 * @module
 */
import { MetricsRegistry } from "./metrics.ts";
import { TCP_LABELS } from "./tcp_metrics.ts";

/** Istio's request labels, in Istio's order. */
export const HTTP_LABELS = [
  ...TCP_LABELS.filter((l) => l !== "response_flags" && l !== "connection_security_policy"),
  "response_code",
  "grpc_response_status",
  "response_flags",
  "connection_security_policy",
] as const;

/** Label values for one request; unknown ones render "unknown". */
export type HttpLabels = Partial<Record<(typeof HTTP_LABELS)[number], string>>;

/** Istio's default duration buckets (milliseconds). */
export const DURATION_BUCKETS_MS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];
/** Istio's default size buckets (bytes): 1 to 10^9 in powers of ten. */
export const SIZE_BUCKETS_BYTES = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

/** A Prometheus histogram family with fixed label names. */
export class Histogram {
  readonly #series = new Map<string, { labels: string; counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[], readonly buckets: readonly number[]) {}

  /** Records one observation. */
  observe(labels: Readonly<Record<string, string | undefined>>, value: number): void {
    const values = this.labelNames.map((n) => labels[n] || "unknown");
    const key = values.join("\u0000");
    let s = this.#series.get(key);
    if (!s) {
      s = { labels: this.labelNames.map((n, i) => `${n}="${escapeLabel(values[i]!)}"`).join(","), counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  /** Observations over every series whose labels include `match` (tests). */
  count(match: Readonly<Record<string, string>> = {}): number {
    let n = 0;
    for (const s of this.#series.values()) if (Object.entries(match).every(([k, v]) => s.labels.includes(`${k}="${escapeLabel(v)}"`))) n += s.count;
    return n;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.#series.values()) {
      const sep = s.labels ? "," : "";
      this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket{${s.labels}${sep}le="${b}"} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket{${s.labels}${sep}le="+Inf"} ${s.count}`);
      lines.push(`${this.name}_sum${s.labels ? `{${s.labels}}` : ""} ${s.sum}`);
      lines.push(`${this.name}_count${s.labels ? `{${s.labels}}` : ""} ${s.count}`);
    }
    return lines.join("\n") + "\n";
  }
}

/** The four request metrics plus istio_build, rendered together. */
export class HttpMetrics {
  readonly registry: MetricsRegistry;
  readonly requests;
  readonly duration: Histogram;
  readonly requestBytes: Histogram;
  readonly responseBytes: Histogram;

  constructor(component: string, version: string, registry = new MetricsRegistry()) {
    this.registry = registry;
    this.requests = registry.counter("istio_requests_total", "Total requests handled", HTTP_LABELS);
    this.duration = new Histogram("istio_request_duration_milliseconds", "Request duration in milliseconds", HTTP_LABELS, DURATION_BUCKETS_MS);
    this.requestBytes = new Histogram("istio_request_bytes", "Request body size in bytes", HTTP_LABELS, SIZE_BUCKETS_BYTES);
    this.responseBytes = new Histogram("istio_response_bytes", "Response body size in bytes", HTTP_LABELS, SIZE_BUCKETS_BYTES);
    registry.gauge("istio_build", "Istio component build info", ["component", "tag"]).set({ component, tag: version }, 1);
  }

  /** Counts one finished request. */
  record(labels: HttpLabels, durationMs: number, requestBytes: number, responseBytes: number): void {
    this.requests.inc(labels);
    this.duration.observe(labels, durationMs);
    this.requestBytes.observe(labels, requestBytes);
    this.responseBytes.observe(labels, responseBytes);
  }

  /** Every metric in Prometheus text format. */
  render(): string {
    return this.registry.render() + this.duration.render() + this.requestBytes.render() + this.responseBytes.render();
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}
