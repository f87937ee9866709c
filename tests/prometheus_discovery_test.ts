// Prometheus without Kubernetes: a real Prometheus (Debian's) whose only
// configuration is one http_sd_configs entry pointing at the controlplane's
// /sd/prometheus finds every ztunnel (two nodes) and the waypoint by itself and
// scrapes them `up`, with the labels Istio's dashboards select on. Then, under
// traffic client → ztunnel → waypoint → ztunnel → hello, the request queries of
// Istio's mesh, service and workload dashboards (tests/dashboard_queries.ts)
// return data. Every piece is a real process; the demo's apps are small HTTP
// servers in this process.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import { stringify } from "yaml";
import {
  afterAll, loopbackAddress, runCommand, runtimeCommand, socksUrl, startPrometheus, startProcess, startTestControlplane, startXdsMesh, test, until,
} from "../testing/mod.ts";
import { fillVariables, WAYPOINT_DASHBOARD_QUERIES } from "./dashboard_queries.ts";

const ip = { sleep: loopbackAddress(), v1: loopbackAddress(), v2: loopbackAddress(), wp: loopbackAddress(), cp: loopbackAddress(), prom: loopbackAddress() };
const HOST = "hello.demo.svc.cluster.local";
const pod = (name: string, node: string, address: string, labels: string, sa: string) => `---
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: demo, labels: {${labels}}}
spec: {nodeName: ${node}, serviceAccountName: ${sa}, containers: [{name: app, image: app}]}
status: {phase: Running, podIP: ${address}}
`;
const meshYaml = `
apiVersion: v1
kind: Namespace
metadata: {name: demo, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: wp, namespace: demo}
spec: {gatewayClassName: istio-waypoint, listeners: [{name: mesh, port: 15008, protocol: HBONE}]}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: wp-1, namespace: demo, labels: {gateway.networking.k8s.io/gateway-name: wp, ambit.dev/node: node-a}}
spec: {address: ${ip.wp}, serviceAccount: wp}
${pod("sleep", "node-a", ip.sleep, "app: sleep", "sleep")}${pod("hello-v1", "node-b", ip.v1, "app: hello, version: v1", "hello")}${
  pod("hello-v2", "node-b", ip.v2, "app: hello, version: v2", "hello")}---
apiVersion: v1
kind: Service
metadata: {name: hello, namespace: demo, labels: {istio.io/use-waypoint: wp}}
spec: {selector: {app: hello}, ports: [{name: http, port: 80, targetPort: 8080}]}
`;

const backends = [ip.v1, ip.v2].map((address) => {
  const s = http.createServer((_req, res) => res.end("hello"));
  return new Promise<http.Server>((r) => s.listen(8080, address, () => r(s)));
});
const servers = await Promise.all(backends);
const cp = await startTestControlplane(["--metrics-listen", `${ip.cp}:15014`]);
assert.equal((await cp.apply(meshYaml)).status, 200);
const mesh = await startXdsMesh(cp, ["node-a", "node-b"]);
const adminToken = fs.readFileSync(`${cp.stateDir}/admin-token`, "utf8").trim();
const { token } = await cp.admin.json<{ token: string }>("POST", "/api/v1/waypoints/demo/wp/token", {}, { authorization: `Bearer ${adminToken}` });
const [cmd, args] = runtimeCommand("waypoint/main.ts", ["--gateway", "demo/wp", "--address", ip.wp, "--controlplane", cp.url, "--controlplane-ca", cp.rootCertFile, "--token", token]);
const waypoint = startProcess(cmd, args);
await waypoint.waitForLine(/waypoint\tready/, 30_000);

// The whole configuration: where the target list is, nothing about the targets.
const prometheus = startPrometheus(ip.prom, stringify({
  global: { scrape_interval: "1s", evaluation_interval: "1s" },
  scrape_configs: [{ job_name: "ambit", http_sd_configs: [{ url: `http://${ip.cp}:15014/sd/prometheus`, refresh_interval: "1s" }] }],
}));
let stopTraffic = false;
afterAll(async () => {
  stopTraffic = true;
  await prometheus.stop();
  waypoint.kill("SIGKILL");
  await waypoint.exited;
  await mesh.stop();
  await cp.kill();
  for (const s of servers) s.close();
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
  } finally {
    stopTraffic = true;
    await traffic;
  }
}, { timeout: 60_000 });
