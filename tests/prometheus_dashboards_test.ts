// A real Prometheus (Debian's) scrapes a two-node mesh — the controlplane and
// two ztunnels that joined it — under traffic, with the scrape configuration
// Ambit documents (telemetry/prometheus_scrape_config.ts, what `ambit dev`
// writes). Then the L4 queries of Istio's ztunnel, mesh, service, workload and
// pilot dashboards (tests/dashboard_queries.ts, each with its source) must all
// return data, and Kiali's TCP edge query must return the demo's edges, client →
// hello-v1 (same node) and client → hello-v2 (across nodes), the right way round.
// Nothing is faked; the demo's apps are small HTTP servers in this process.
import * as assert from "node:assert/strict";
import * as http from "node:http";
import { prometheusScrapeConfig } from "../telemetry/mod.ts";
import { afterAll, loopbackAddress, readAll, socksConnect, startPrometheus, startTestControlplane, startXdsMesh, test, until } from "../testing/mod.ts";
import { DASHBOARD_QUERIES, fillVariables, KIALI_TCP_EDGES } from "./dashboard_queries.ts";

const ip = { client: loopbackAddress(), v1: loopbackAddress(), v2: loopbackAddress(), cp: loopbackAddress(), prom: loopbackAddress() };
const RESPONSE = "x".repeat(16 * 1024);
const SCRAPE_SECONDS = 1;
const HOST = "hello.demo.svc.cluster.local";

const demoYaml = `
apiVersion: v1
kind: Namespace
metadata: {name: demo, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: client, namespace: demo}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: hello, namespace: demo}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: demo, labels: {app: client}}
spec: {nodeName: node-a, serviceAccountName: client, containers: [{name: client, image: client}]}
status: {phase: Running, podIP: ${ip.client}}
---
apiVersion: v1
kind: Pod
metadata: {name: hello-v1, namespace: demo, labels: {app: hello, version: v1}}
spec: {nodeName: node-a, serviceAccountName: hello, containers: [{name: hello, image: hello, ports: [{name: http, containerPort: 8080}]}]}
status: {phase: Running, podIP: ${ip.v1}}
---
apiVersion: v1
kind: Pod
metadata: {name: hello-v2, namespace: demo, labels: {app: hello, version: v2}}
spec: {nodeName: node-b, serviceAccountName: hello, containers: [{name: hello, image: hello, ports: [{name: http, containerPort: 8080}]}]}
status: {phase: Running, podIP: ${ip.v2}}
---
apiVersion: v1
kind: Service
metadata: {name: hello, namespace: demo}
spec: {selector: {app: hello}, ports: [{name: http, port: 80, targetPort: http}]}
`;

// The demo's hello: a small request in, 16 KiB out, so the two directions differ.
const servers = await Promise.all([ip.v1, ip.v2].map((address) =>
  new Promise<http.Server>((resolve) => {
    const s = http.createServer((_req, res) => res.end(RESPONSE));
    s.listen(8080, address, () => resolve(s));
  })
));
const cp = await startTestControlplane(["--metrics-listen", `${ip.cp}:15014`]);
assert.equal((await cp.apply(demoYaml)).status, 200);
const mesh = await startXdsMesh(cp, ["node-a", "node-b"]);

const prometheus = startPrometheus(ip.prom, prometheusScrapeConfig({
  ztunnels: Object.values(mesh.nodes).map((n) => ({ node: n.name, address: n.address })),
  controlplane: `${ip.cp}:15014`,
  intervalSeconds: SCRAPE_SECONDS,
}));
const promQuery = prometheus.query;
let stopTraffic = false;
afterAll(async () => {
  stopTraffic = true;
  await prometheus.stop();
  await mesh.stop();
  await cp.kill();
  for (const s of servers) s.close();
});

/** One HTTP/1.0 GET from the client workload through its ztunnel, to the hello service by name. */
async function callHello(): Promise<void> {
  const r = await socksConnect({ address: ip.client, port: 15080 }, HOST, 80, 5_000);
  assert.ok(r.ok, `SOCKS CONNECT refused: ${!r.ok && r.reply}`);
  r.socket.write(`GET / HTTP/1.0\r\nHost: ${HOST}\r\n\r\n`);
  const text = await readAll(r.socket);
  r.socket.end(); // HTTP/1.0: the server closed its side; closing ours ends the tunnel
  assert.ok(text.endsWith(RESPONSE), "short answer");
}

test("Prometheus scrapes every target with Istio's pod labels, and the dashboards' L4 queries and Kiali's TCP edges return the demo's traffic", async () => {
  await until("targets up", async () => {
    const targets = await prometheus.targets();
    if (targets.length !== 3 || targets.some((t) => t.health !== "up")) return JSON.stringify(targets.map((t) => [t.labels.pod, t.health, t.lastError]));
    assert.deepEqual(targets.map((t) => t.labels.pod).sort(), ["istiod-ambit", "ztunnel-node-a", "ztunnel-node-b"]);
    return true;
  }, 15_000);

  // Four callers, one after another each: both hello pods get traffic (the service balances over them).
  const traffic = Promise.all(Array.from({ length: 4 }, async () => {
    while (!stopTraffic) await callHello();
  }));
  const vars = {
    __rate_interval: `${SCRAPE_SECONDS * 4}s`, cluster: ".*", qrep: "destination", service: HOST, srcwl: ".*", srcns: ".*", dstwl: ".*", dstns: ".*",
    dstsvc: ".*", namespace: "demo", workload: "hello-v2", client: "client", durations: "10s",
  };
  try {
    for (const q of DASHBOARD_QUERIES) {
      const expr = fillVariables(q.expr, vars);
      await until(`${q.dashboard} dashboard, panel "${q.panel}": ${expr}`, async () => (await promQuery(expr)).length > 0 || "no data", 15_000);
    }

    // Kiali's graph for namespace demo: edges from the source reporter, weighted by response bytes.
    const edges = await until("Kiali's TCP edges", async () => {
      const rows = (await promQuery(fillVariables(KIALI_TCP_EDGES, vars))).filter((r) => Number(r.value[1]) > 0);
      return rows.length >= 2 ? rows : `edges so far: ${JSON.stringify(rows.map((r) => r.metric))}`;
    }, 15_000);
    const seen = edges.map((e) => `${e.metric.source_workload} -> ${e.metric.destination_workload} (${e.metric.destination_service}, ${e.metric.destination_canonical_revision})`).sort();
    assert.deepEqual(seen, [`client -> hello-v1 (${HOST}, v1)`, `client -> hello-v2 (${HOST}, v2)`]);
    for (const e of edges) {
      assert.equal(e.metric.source_workload_namespace, "demo");
      assert.equal(e.metric.destination_service_name, "hello");
      assert.equal(e.metric.destination_service_namespace, "demo");
    }

    // The right direction: the edge's "sent" rate (responses, 16 KiB each) is far above its request rate, for both reporters.
    for (const reporter of ["source", "destination"]) {
      const by = (metric: string) => promQuery(`sum by (destination_workload) (rate(${metric}{reporter="${reporter}",source_workload="client"}[10s]))`);
      const [sent, received] = await Promise.all([by("istio_tcp_sent_bytes_total"), by("istio_tcp_received_bytes_total")]);
      for (const s of sent) {
        const r = received.find((x) => x.metric.destination_workload === s.metric.destination_workload);
        assert.ok(r && Number(s.value[1]) > 20 * Number(r.value[1]), `${reporter} → ${s.metric.destination_workload}: sent ${s.value[1]} B/s, received ${r?.value[1]} B/s`);
      }
    }
    // The destination side names the service too (the Service dashboard's dropdowns read it).
    const destination = await promQuery(`count by (destination_service, destination_principal, source_principal) (istio_tcp_connections_opened_total{reporter="destination",destination_workload_namespace="demo"})`);
    assert.deepEqual(destination.map((d) => d.metric), [{
      destination_service: HOST,
      destination_principal: "spiffe://cluster.local/ns/demo/sa/hello",
      source_principal: "spiffe://cluster.local/ns/demo/sa/client",
    }]);
  } finally {
    stopTraffic = true;
    await traffic;
  }
}, { timeout: 60_000 });
