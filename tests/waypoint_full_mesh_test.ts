// The whole mesh with a waypoint, every piece a real process: the controlplane,
// two ztunnels joined with join tokens, and the waypoint process authenticating
// with its waypoint token over TLS (its certificate from the CA, its routes over
// delta xDS). A client on node-a reaches `hello` through its SOCKS5 port; node-a's
// ztunnel sends it to the waypoint, which splits it between hello-v1 and
// hello-v2 on node-b. Checks: a 90/10 split over 1,000 requests, the x-canary
// header, and a live switch to 50/50 with `ambit apply` under continuous load;
// the request metrics name the caller from the controlplane's view.
import * as assert from "node:assert/strict";
import * as http from "node:http";
import { curlBatch as curlThrough, startMeshWaypoint } from "../testing/mesh_waypoint.ts";
import {
  afterAll, loopbackAddress, repoRoot, runCommand, runtimeCommand, socksUrl, startProcess, startTestControlplane, startXdsMesh, test,
} from "../testing/mod.ts";
import { podYaml, waypointYaml } from "../testing/kube_yaml.ts";

const ip = { sleep: loopbackAddress(), v1: loopbackAddress(), v2: loopbackAddress(), wp: loopbackAddress() };
const route = (w1: number, w2: number) => `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: hello, namespace: demo}
spec:
  parentRefs: [{group: "", kind: Service, name: hello}]
  rules:
  - matches: [{headers: [{name: x-canary, value: "true"}]}]
    backendRefs: [{name: hello-v2, port: 80}]
  - backendRefs: [{name: hello-v1, port: 80, weight: ${w1}}, {name: hello-v2, port: 80, weight: ${w2}}]
`;
const pod = (name: string, node: string, address: string, labels: string, sa: string) =>
  `---\n${podYaml({ name, node, ip: address, serviceAccount: sa, labels: Object.fromEntries(labels.split(", ").map((l) => l.split(": ") as [string, string])) })}`;
const svc = (name: string, selector: string, labels = "{}") => `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: demo, labels: ${labels}}
spec: {selector: {${selector}}, ports: [{name: http, port: 80, targetPort: 8080}]}
`;
const meshYaml = `
apiVersion: v1
kind: Namespace
metadata: {name: demo, labels: {istio.io/dataplane-mode: ambient}}
---
${waypointYaml({ name: "wp", address: ip.wp, node: "node-a" })}${pod("sleep", "node-a", ip.sleep, "app: sleep", "sleep")}${pod("hello-v1", "node-b", ip.v1, "app: hello, version: v1", "hello")}${pod("hello-v2", "node-b", ip.v2, "app: hello, version: v2", "hello")}${
  svc("hello", "app: hello", "{istio.io/use-waypoint: wp}")}${svc("hello-v1", "app: hello, version: v1")}${svc("hello-v2", "app: hello, version: v2")}---
${route(90, 10)}`;

const backends = (["v1", "v2"] as const).map((v) => http.createServer((_req, res) => res.end(v)));
await Promise.all(backends.map((s, i) => new Promise<void>((r) => s.listen(8080, i === 0 ? ip.v1 : ip.v2, () => r()))));
const cp = await startTestControlplane();
assert.equal((await cp.apply(meshYaml)).status, 200);
const mesh = await startXdsMesh(cp, ["node-a", "node-b"]);
const waypoint = await startMeshWaypoint(cp, "demo/wp", ip.wp);

afterAll(async () => {
  waypoint.kill("SIGKILL");
  await waypoint.exited;
  await mesh.stop();
  await cp.kill();
  for (const b of backends) b.close();
});

const curlBatch = (n: number, headers: string[] = []) => curlThrough(ip.sleep, "http://hello.demo.svc.cluster.local/", n, headers);

test("a 90/10 split: 1,000 requests through the waypoint land within ±3 % of 90/10; x-canary: true always reaches v2", async () => {
  const replies = await curlBatch(1000);
  assert.deepEqual(replies.filter((r) => r.code !== 200), []);
  const v2 = replies.filter((r) => r.body === "v2").length;
  console.log(`90/10 split over ${replies.length} requests: v1 ${replies.length - v2}, v2 ${v2}`);
  assert.equal(replies.length, 1000);
  assert.ok(v2 >= 70 && v2 <= 130, `v2 got ${v2} of 1000 (want 100 ± 30)`);
  const canary = await curlBatch(20, ["x-canary: true"]);
  assert.deepEqual([...new Set(canary.map((r) => `${r.code} ${r.body}`))], ["200 v2"]);
}, { timeout: 120_000 });

// The caller is known to the waypoint only through its controlplane view (controlplane/waypoint_callers.ts).
test("request metrics name the caller: source workload, namespace, app, version and principal from the controlplane's view", async () => {
  const text = await (await fetch(`http://${ip.wp}:15020/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("istio_requests_total{") && l.includes('destination_workload="hello-v1"') && l.includes('response_code="200"'));
  assert.ok(line, "no istio_requests_total series for hello-v1");
  for (const label of ['reporter="waypoint"', 'source_workload="sleep"', 'source_workload_namespace="demo"', 'source_app="sleep"', 'source_principal="spiffe://cluster.local/ns/demo/sa/sleep"', 'destination_app="hello"', 'destination_version="v1"']) {
    assert.ok(line.includes(label), `${label} missing in ${line}`);
  }
}, { timeout: 20_000 });

test("switching to 50/50 with `ambit apply` under continuous load: in effect within 1 s, 0 failed requests", async () => {
  // Four clients sending back to back; the switch is applied once they are under way.
  const load = Promise.all(Array.from({ length: 4 }, () => curlBatch(2500)));
  await new Promise((r) => setTimeout(r, 500));
  const tokenFile = `${cp.stateDir}/admin-token`;
  const ambit = runtimeCommand("cli/main.ts", ["apply", "-f", "-", "--controlplane", cp.url, "--token-file", tokenFile, "--controlplane-ca", cp.rootCertFile]);
  const applied = await runCommand(ambit[0], ambit[1], { cwd: repoRoot, input: route(50, 50) });
  const appliedAt = Date.now();
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
  const events = (await load).flat().sort((a, b) => a.at - b.at);
  assert.equal(events.length, 10_000);
  assert.deepEqual(events.filter((e) => e.code !== 200).slice(0, 5).map((e) => ({ ...e, at: Math.round(e.at - appliedAt) })), []);
  const after = events.filter((e) => e.at > appliedAt + 1000);
  assert.ok(after.length >= 1000, `only ${after.length} requests more than 1 s after the switch`);
  const share = after.filter((e) => e.body === "v2").length / after.length;
  // When it took effect: the first 100-request window after the apply with a v2 share above 30 %.
  const since = events.filter((e) => e.at >= appliedAt);
  let tookEffectMs = Number.NaN;
  for (let i = 0; i + 100 <= since.length; i += 10) {
    if (since.slice(i, i + 100).filter((e) => e.body === "v2").length > 30) {
      tookEffectMs = Math.round(since[i]!.at - appliedAt);
      break;
    }
  }
  console.log(`50/50 after the apply: v2 share ${(share * 100).toFixed(1)} % over ${after.length} requests started more than 1 s after it; in effect ~${tookEffectMs} ms after the apply returned; ${events.length} requests, 0 failed`);
  assert.ok(Math.abs(share - 0.5) <= 0.05, `v2 share ${share} after the switch`);
}, { timeout: 200_000 });
