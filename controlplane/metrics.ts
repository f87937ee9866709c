// The controlplane's own /metrics, under the names Istio's pilot dashboard
// reads: istio_build{component="pilot"}, the xDS connections it holds
// (pilot_xds), the responses it pushed by type (pilot_xds_pushes), the NACKs it
// got back (pilot_total_xds_rejects), and the process metrics. Istio's names keep
// their missing `_total`, so dashboards work unchanged.
import { Hono } from "hono";
import { AMBIT_VERSION, MetricsRegistry, registerProcessMetrics } from "../telemetry/mod.ts";
import { SERVICE_ROUTES_TYPE_URL, TYPE_URLS, type TypeUrl } from "../xds/protocol.ts";
import type { StreamStatus, XdsServerObserver } from "../xds/server.ts";

/** The `type` label for each resource type: Ambit's kind, lower case (istiod uses its own short names). */
const TYPE_LABEL: Record<TypeUrl, string> = {
  [TYPE_URLS.workload]: "workload",
  [TYPE_URLS.service]: "service",
  [TYPE_URLS.authorization]: "authorization",
  [TYPE_URLS.trustBundle]: "trustbundle",
  [SERVICE_ROUTES_TYPE_URL]: "serviceroutes",
};

/** The controlplane's metrics: the registry, and the hooks the xDS server feeds. */
export interface ControlplaneMetrics {
  readonly registry: MetricsRegistry;
  readonly xds: XdsServerObserver;
}

/** Registers the metrics; `streams` (the xDS server's status) is read at every scrape. */
export function controlplaneMetrics(streams: () => readonly StreamStatus[]): ControlplaneMetrics {
  const registry = new MetricsRegistry();
  registry.gauge("istio_build", "Istio component build info", ["component", "tag"]).set({ component: "pilot", tag: AMBIT_VERSION }, 1);
  registerProcessMetrics(registry);
  const connected = registry.gauge("pilot_xds", "Number of endpoints connected to this pilot using XDS.", ["version"]);
  const pushes = registry.counter("pilot_xds_pushes", "xDS responses pushed to connected proxies, by type.", ["type"]);
  const rejects = registry.counter("pilot_total_xds_rejects", "Total number of XDS responses from pilot rejected by proxy.", ["type"]);
  registry.onCollect(() => connected.set({ version: AMBIT_VERSION }, streams().filter((s) => s.connected).length));
  return {
    registry,
    xds: {
      pushed: (typeUrl) => pushes.inc({ type: TYPE_LABEL[typeUrl] ?? typeUrl }),
      rejected: (typeUrl) => rejects.inc({ type: TYPE_LABEL[typeUrl] ?? typeUrl }),
    },
  };
}

/** GET /metrics in the Prometheus text format, for the plain HTTP/1.1 metrics listener (istiod's port 15014); it serves nothing else. */
export function metricsRoutes(registry: MetricsRegistry): Hono {
  const app = new Hono();
  app.get("/metrics", () => new Response(registry.render(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } }));
  return app;
}
