/**
 * Connections the ztunnel refuses for its own safety or for want of a route —
 * a destination on one of its own ports (`self-call`), link-local passthrough,
 * a SOCKS5 client that is not the workload — each logged with its reason and
 * counted in `ambit_connections_refused_total{direction,reason}`, so an attempt to
 * borrow an identity shows on a dashboard, not only in a log.
 *
 * @example
 * ```ts
 * const refusals = new RefusalReport(metrics.registry, log);
 * refusals.record("inbound", "self-call", "port 15080 is one of the ztunnel's own ports", { "src.addr": "127.0.20.1" });
 * ```
 * @module
 */
import type { Logger, Metric, MetricsRegistry } from "../telemetry/mod.ts";

/** Logs and counts refusals. */
export class RefusalReport {
  readonly #refused: Metric;

  constructor(registry: MetricsRegistry, private readonly log: Logger) {
    this.#refused = registry.counter("ambit_connections_refused_total", "Connections the ztunnel refused before any policy, by direction and reason", ["direction", "reason"]);
  }

  record(direction: "inbound" | "outbound", reason: string, message: string, fields: Readonly<Record<string, string | number | undefined>> = {}): void {
    this.#refused.inc({ direction, reason });
    this.log.info(direction, "connection refused", { ...fields, reason, error: message });
  }
}
