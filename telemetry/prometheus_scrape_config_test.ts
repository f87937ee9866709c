// The scrape configuration's targets and labels (a real Prometheus reads it in tests/prometheus_dashboards_test.ts).
import { expect, test } from "bun:test";
import { parse } from "yaml";
import { prometheusScrapeConfig } from "./prometheus_scrape_config.ts";

test("one ztunnel target per node with Istio's pod labels, and the controlplane as istiod", () => {
  const config = parse(prometheusScrapeConfig({
    ztunnels: [{ node: "node-a", address: "127.0.10.1" }, { node: "node-b", address: "127.0.10.2", port: 25020 }],
    controlplane: "127.0.0.1:15010",
    intervalSeconds: 1,
  }));
  expect(config.global.scrape_interval).toBe("1s");
  expect(config.scrape_configs[0].static_configs).toEqual([
    { targets: ["127.0.10.1:15020"], labels: { app: "ztunnel", pod: "ztunnel-node-a", namespace: "istio-system", node: "node-a" } },
    { targets: ["127.0.10.2:25020"], labels: { app: "ztunnel", pod: "ztunnel-node-b", namespace: "istio-system", node: "node-b" } },
  ]);
  expect(config.scrape_configs[1]).toMatchObject({ job_name: "istiod", static_configs: [{ targets: ["127.0.0.1:15010"], labels: { app: "istiod" } }] });
});

test("without a controlplane there is only the ztunnel job, scraped every 15 s", () => {
  const config = parse(prometheusScrapeConfig({ ztunnels: [{ node: "n", address: "10.0.0.1" }] }));
  expect(config.global.scrape_interval).toBe("15s");
  expect(config.scrape_configs.map((c: { job_name: string }) => c.job_name)).toEqual(["ztunnel"]);
});

test("discovery: job ambit reads the controlplane's target list, re-read at the scrape interval", () => {
  const config = parse(prometheusScrapeConfig({ discovery: "http://127.0.0.1:15014/sd/prometheus", controlplane: "127.0.0.1:15014", intervalSeconds: 2 }));
  expect(config.scrape_configs.map((c: { job_name: string }) => c.job_name)).toEqual(["ambit", "istiod"]);
  expect(config.scrape_configs[0].http_sd_configs).toEqual([{ url: "http://127.0.0.1:15014/sd/prometheus", refresh_interval: "2s" }]);
});
