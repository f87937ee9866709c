// The service-graph dashboard, wired: rates from the controlplane's own scrape of
// the http_sd targets (or from a Prometheus), the graph from them, each node's
// config from the controlplane's data plane, and its recent access log from the
// admin API of the proxies that carry it (docs/observability.md says why there).
import type { DataPlaneSnapshot } from "../../xds/resources.ts";
import type { ScrapeTargetGroup } from "../service_discovery.ts";
import type { MetricSample } from "../../telemetry/prometheus_text.ts";
import type { GraphAnswer, GraphView } from "./graph_routes.ts";
import { MeshScraper } from "./mesh_scraper.ts";
import { prometheusRates } from "./prometheus_rates.ts";
import { serviceGraph } from "./service_graph.ts";

/** Where the proxies' admin APIs listen, when a proxy does not say (ztunnel's and the waypoint's default). */
export const DEFAULT_ADMIN_PORT = 15000;

/** What the dashboard reads from the controlplane. */
export interface DashboardDeps {
  readonly snapshot: () => DataPlaneSnapshot;
  readonly targets: () => readonly ScrapeTargetGroup[];
  /** A Prometheus to read rates from instead of scraping the data plane. */
  readonly prometheusUrl?: string;
  readonly scrapeIntervalMs: number;
  readonly windowSeconds: number;
}

/** The dashboard: its view for the routes, and its scraper's lifetime. */
export function startDashboard(deps: DashboardDeps): GraphView & { stop(): Promise<void> } {
  const scraper = deps.prometheusUrl ? undefined : new MeshScraper({ targets: deps.targets, intervalMs: deps.scrapeIntervalMs, windowMs: deps.windowSeconds * 1000 });
  scraper?.start();
  const waypointWorkloads = () => new Set(deps.snapshot().workloads.filter((w) => w.nativeTunnel).map((w) => `${w.namespace}/${w.workloadName || w.name}`));

  return {
    async graph(): Promise<GraphAnswer> {
      let samples: MetricSample[] = [];
      let error: string | undefined;
      if (scraper) samples = scraper.rates();
      else {
        try {
          samples = await prometheusRates(deps.prometheusUrl!, deps.windowSeconds);
        } catch (e) {
          error = (e as Error).message;
        }
      }
      const waypointServices = new Set(deps.snapshot().services.filter((s) => s.waypoint).map((s) => s.hostname));
      const graph = serviceGraph(samples, { waypointWorkloads: waypointWorkloads(), waypointServices });
      return { ...graph, source: scraper ? "mesh" : "prometheus", windowSeconds: deps.windowSeconds, updatedAt: new Date().toISOString(), ...(error ? { error } : {}) };
    },
    async workload(namespace, name) {
      const snapshot = deps.snapshot();
      const workload = snapshot.workloads.find((w) => w.namespace === namespace && (w.workloadName || w.name) === name);
      if (!workload) return undefined;
      const services = snapshot.services.filter((s) => `${s.namespace}/${s.hostname}` in workload.services);
      const policies = snapshot.policies.filter((p) => workload.authorizationPolicies.includes(`${p.namespace}/${p.name}`));
      const addresses = workload.addresses.map((a) => a.replace(/^[^/]*\//, ""));
      return { config: { workload, services, policies }, accessLog: await accessLog(deps.targets(), workload.node, `${namespace}/${name}`, addresses) };
    },
    service(hostname) {
      return deps.snapshot().services.find((s) => s.hostname === hostname);
    },
    stop: async () => await scraper?.stop(),
  };
}

/** The records of the workload's node's ztunnel and of every waypoint, newest first. */
async function accessLog(targets: readonly ScrapeTargetGroup[], node: string, workload: string, addresses: readonly string[]) {
  const proxies = targets.filter((g) => (g.labels.role === "ztunnel" && g.labels.node === node) || g.labels.role === "waypoint");
  const errors: string[] = [];
  const records = (await Promise.all(proxies.map(async (g) => {
    const host = g.targets[0]!.replace(/:\d+$/, "");
    const query = new URLSearchParams([["workload", workload], ["limit", "30"], ...addresses.map((a) => ["address", a])]);
    const url = `http://${host}:${DEFAULT_ADMIN_PORT}/debug/access_log?${query}`;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000), redirect: "error" });
      const body = await res.json() as { records?: { time: string; message: string; fields: Record<string, unknown> }[] };
      return (body.records ?? []).slice(0, 30).map((r) => ({ time: String(r.time), message: String(r.message), fields: r.fields ?? {}, proxy: g.labels.pod ?? host }));
    } catch (e) {
      errors.push(`${g.labels.pod}: admin ${host}:${DEFAULT_ADMIN_PORT} did not answer (${(e as Error).message}); the admin API listens on loopback only, so a proxy on another host is not read`);
      return [];
    }
  }))).flat().sort((a, b) => b.time.localeCompare(a.time)).slice(0, 50);
  return { records, errors };
}
