// A Prometheus scrape configuration for an Ambit mesh that gives each target the
// labels Istio's sample Prometheus attaches to pods (`app`, `pod`, `namespace`),
// so Istio's Grafana dashboards and Kiali read Ambit's metrics unchanged: the
// ztunnel dashboard selects `pod=~"ztunnel-.*"` and `app="ztunnel"`.
import { stringify } from "yaml";

/** What to scrape. */
export interface ScrapeTargets {
  /** Each ztunnel: its node name and the address its metrics port (15020) listens on. */
  readonly ztunnels?: readonly { readonly node: string; readonly address: string; readonly port?: number }[];
  /**
   * The controlplane's target list (`http://<metrics-listen>/sd/prometheus`): job `ambit` discovers every
   * ztunnel and waypoint there (`http_sd_configs`, re-read every `intervalSeconds`), instead of a fixed list.
   */
  readonly discovery?: string;
  /** The controlplane's plain-HTTP endpoint (`host:port`), e.g. dev mode's 127.0.0.1:15010. */
  readonly controlplane?: string;
  /** Default 15 s (Istio's sample uses 15 s). */
  readonly intervalSeconds?: number;
}

/**
 * The configuration as YAML: job `ambit` discovering the proxies from the controlplane, or job `ztunnel` with one target per node
 * (`pod="ztunnel-<node>"`, `app="ztunnel"`, `namespace="istio-system"`), and job
 * `istiod` for the controlplane (`app="istiod"`).
 *
 * @example
 * ```ts
 * fs.writeFileSync("prometheus.yml", prometheusScrapeConfig({ ztunnels: [{ node: "node-a", address: "127.0.10.1" }] }));
 * ```
 */
export function prometheusScrapeConfig(t: ScrapeTargets): string {
  const interval = `${t.intervalSeconds ?? 15}s`;
  const scrapeConfigs: unknown[] = [];
  if (t.ztunnels) {
    scrapeConfigs.push({
      job_name: "ztunnel",
      metrics_path: "/metrics",
      static_configs: t.ztunnels.map((z) => ({
        targets: [`${z.address}:${z.port ?? 15020}`],
        labels: { app: "ztunnel", pod: `ztunnel-${z.node}`, namespace: "istio-system", node: z.node },
      })),
    });
  }
  if (t.discovery) {
    scrapeConfigs.push({ job_name: "ambit", metrics_path: "/metrics", http_sd_configs: [{ url: t.discovery, refresh_interval: interval }] });
  }
  if (t.controlplane) {
    scrapeConfigs.push({
      job_name: "istiod",
      metrics_path: "/metrics",
      static_configs: [{ targets: [t.controlplane], labels: { app: "istiod", pod: "istiod-ambit", namespace: "istio-system" } }],
    });
  }
  return stringify({ global: { scrape_interval: interval, evaluation_interval: interval }, scrape_configs: scrapeConfigs });
}
