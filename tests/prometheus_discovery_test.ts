// Prometheus without Kubernetes: a real Prometheus (Debian's) whose only
// configuration is one http_sd_configs entry pointing at the controlplane's
// /sd/prometheus finds every ztunnel (two nodes) and the waypoint by itself and
// scrapes them `up`, with the labels Istio's dashboards select on. Then, under
// traffic client → ztunnel → waypoint → ztunnel → hello, the request queries of
// Istio's mesh, service and workload dashboards (tests/dashboard_queries.ts)
// return data, and the controlplane's service graph reads its edges from that
// Prometheus (--prometheus-url). Every piece is a real process; the demo's apps are small HTTP
// servers in this process.
import * as assert from "node:assert/strict";
import { stringify } from "yaml";
import {
  afterAll, DEMO_HOST, loopbackAddress, runCommand, socksUrl, startPrometheus, startWaypointDemoMesh, test, until,
} from "../testing/mod.ts";
import { fillVariables, WAYPOINT_DASHBOARD_QUERIES } from "./dashboard_queries.ts";

const prom = loopbackAddress();
// The service graph reads this Prometheus (--prometheus-url) instead of scraping the proxies itself.
const demo = await startWaypointDemoMesh((cp) => ["--metrics-listen", `${cp}:15014`, "--dashboard-listen", `${cp}:20001`, "--prometheus-url", `http://${prom}:9090`, "--dashboard-window", "10"]);
const { mesh } = demo;
const ip = { ...demo.ip, prom };
const HOST = DEMO_HOST;

// The whole configuration: where the target list is, nothing about the targets.
const prometheus = startPrometheus(ip.prom, stringify({
  global: { scrape_interval: "1s", evaluation_interval: "1s" },
  scrape_configs: [{ job_name: "ambit", http_sd_configs: [{ url: `http://${ip.cp}:15014/sd/prometheus`, refresh_interval: "1s" }] }],
}));
let stopTraffic = false;
afterAll(async () => {
  stopTraffic = true;
  await prometheus.stop();
  await demo.stop();
});

test("a real Prometheus discovers every ztunnel and the waypoint over http_sd_configs, scrapes them up, and the dashboards' request queries return the waypoint's traffic", async () => {
  const targets = await until("targets up", async () => {
    const t = await prometheus.targets();
    if (t.length !== 3 || t.some((x) => x.health !== "up")) return JSON.stringify(t.map((x) => [x.labels.pod, x.scrapeUrl, x.health, x.lastError]));
    return t;
  }, 15_000);
  const byPod = Object.fromEntries(targets.map((t) => [t.labels.pod!.replace(/^wp-.*/, "wp"), t]));
  assert.deepEqual(Object.keys(byPod).sort(), ["wp", "ztunnel-node-a", "ztunnel-node-b"]);
  for (const node of ["node-a", "node-b"]) {
    const t = byPod[`ztunnel-${node}`]!;
    assert.equal(t.scrapeUrl, `http://${mesh.nodes[node]!.address}:15020/metrics`);
    assert.deepEqual([t.labels.app, t.labels.namespace, t.labels.node, t.labels.role, t.labels.workload], ["ztunnel", "istio-system", node, "ztunnel", "ztunnel"]);
  }
  const wp = byPod.wp!;
  assert.equal(wp.scrapeUrl, `http://${ip.wp}:15020/metrics`);
  assert.deepEqual([wp.labels.app, wp.labels.namespace, wp.labels.role, wp.labels.workload], ["wp", "demo", "waypoint", "wp"]);

  // Two clients, each sending batches of requests over one keep-alive connection.
  const traffic = Promise.all([0, 1].map(async () => {
    while (!stopTraffic) {
      const r = await runCommand("curl", ["-sS", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_code}\\n", "-x", socksUrl(ip.sleep), `http://${HOST}/?n=[1-20]`], { timeoutMs: 30_000 });
      assert.deepEqual([...new Set(r.stdout.trim().split("\n"))], ["200"], r.stderr);
    }
  }));
  const vars = { __rate_interval: "4s", cluster: ".*", qrep: "waypoint", service: HOST, srcwl: ".*", srcns: ".*", namespace: "demo", workload: "hello-v1" };
  try {
    for (const q of WAYPOINT_DASHBOARD_QUERIES) {
      const expr = fillVariables(q.expr, vars);
      await until(`${q.dashboard} dashboard, panel "${q.panel}": ${expr}`, async () => {
        const rows = await prometheus.query(expr);
        return rows.some((r) => Number(r.value[1]) > 0) || `no data: ${JSON.stringify(rows)}`;
      }, 10_000);
    }
    // The waypoint's series name the demo's edge through the waypoint, mTLS, the caller by its principal.
    // (source_workload is "unknown": the waypoint's view holds only the workloads it routes to.)
    const edges = await prometheus.query(`sum by (source_principal, destination_workload, destination_service, connection_security_policy) (istio_requests_total{reporter="waypoint"})`);
    assert.deepEqual(edges.map((e) => `${e.metric.source_principal} -> ${e.metric.destination_workload} (${e.metric.destination_service}, ${e.metric.connection_security_policy})`).sort(), [
      `spiffe://cluster.local/ns/demo/sa/sleep -> hello-v1 (${HOST}, mutual_tls)`,
      `spiffe://cluster.local/ns/demo/sa/sleep -> hello-v2 (${HOST}, mutual_tls)`,
    ]);
    // The service graph from the same Prometheus: the edges through the waypoint, with rates.
    await until("the service graph from Prometheus", async () => {
      const graph = await (await fetch(`http://${ip.cp}:20001/api/graph`)).json() as { source: string; error?: string; edges: { id: string; requestsPerSecond: number; waypoint?: string }[] };
      const ids = graph.edges.filter((e) => e.requestsPerSecond > 0 && e.waypoint === "demo/wp").map((e) => e.id).sort();
      const want = [`service:${HOST}->workload:demo/hello-v1:http`, `service:${HOST}->workload:demo/hello-v2:http`, `workload:demo/sleep->service:${HOST}:http`];
      return (graph.source === "prometheus" && JSON.stringify(ids) === JSON.stringify(want)) || JSON.stringify(graph);
    }, 15_000);
  } finally {
    stopTraffic = true;
    await traffic;
  }
}, { timeout: 60_000 });
