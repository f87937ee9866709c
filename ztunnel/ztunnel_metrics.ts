// The ztunnel's own metrics beyond the TCP ones, under the names and labels
// Istio's ztunnel dashboard reads: the xDS stream (messages by type URL,
// terminations by reason), the workloads it serves (ztunnel's workload
// manager: proxies active and pending), open sockets, and the process.
import { type MetricsRegistry, registerProcessMetrics } from "../telemetry/mod.ts";
import { XDS_TERMINATION_REASONS, type XdsClientObserver } from "../xds/client.ts";

/** Local workloads as the workload manager gauges count them. */
export interface ServedWorkloads {
  /** Listening for the workload (HBONE, SOCKS5, plaintext): ztunnel's active proxies. */
  readonly active: number;
  /** On this node and in the mesh, but not yet listening (certificate or listener pending). */
  readonly pending: number;
}

/**
 * Registers the metrics on `registry` and returns the xDS hooks to feed them.
 * `served` is asked at every scrape.
 */
export function registerZtunnelMetrics(registry: MetricsRegistry, served: () => ServedWorkloads): XdsClientObserver {
  const descriptors = registerProcessMetrics(registry);
  const sockets = registry.gauge("istio_tcp_sockets_open", "Number of open sockets (listeners, connections to workloads and peers, the xDS stream), from /proc/self/fd", []);
  const active = registry.gauge("workload_manager_active_proxy_count", "The current number of workloads this ztunnel serves (listening for them)", []);
  const pending = registry.gauge("workload_manager_pending_proxy_count", "The current number of workloads on this node not yet served (certificate or listeners pending)", []);
  const messages = registry.counter("istio_xds_message_total", "Total number of messages received (unstable)", ["url"]);
  const messageBytes = registry.counter("istio_xds_message_bytes_total", "Total number of bytes received (unstable)", ["url"]);
  const terminations = registry.counter("istio_xds_connection_terminations_total", "The total number of completed connections to xds server (unstable)", ["reason"]);
  // Every reason from 0, so rate() has a series before the first termination (the XDS panel is never blank).
  for (const reason of XDS_TERMINATION_REASONS) terminations.series({ reason });
  registry.onCollect(() => {
    const s = served();
    active.set({}, s.active);
    pending.set({}, s.pending);
    const d = descriptors();
    if (d) sockets.set({}, d.sockets);
  });
  return {
    message: (url, bytes) => {
      messages.inc({ url });
      messageBytes.inc({ url }, bytes);
    },
    terminated: (reason) => terminations.inc({ reason }),
  };
}
