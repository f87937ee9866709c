// Traces across the whole mesh, every piece a real process: the controlplane
// (Telemetry API objects, the mesh config's opentelemetry providers), two
// ztunnels exporting connection spans, and the waypoint exporting request
// spans, all over OTLP/HTTP protobuf to a receiver that decodes with the
// OpenTelemetry project's own decoder (testing/otlp_receiver.ts; no collector
// exists on these machines). A client on node-a reaches `hello` on node-b
// through the waypoint. Checks: one request's spans link client → ztunnel →
// waypoint → ztunnel → server; sampling at 0, 100 and 10 % over 1,000
// requests each; a collector that accepts and never answers neither slows nor
// fails requests, and its lost spans are counted.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { startOtlpReceiver } from "../testing/otlp_receiver.ts";
import {
  afterAll, loopbackAddress, runCommand, runtimeCommand, socksUrl, startProcess, startTestControlplane, startXdsMesh, test,
} from "../testing/mod.ts";
import { podYaml, waypointYaml } from "../testing/kube_yaml.ts";

const ip = { sleep: loopbackAddress(), hello: loopbackAddress(), wp: loopbackAddress() };
const receiver = await startOtlpReceiver(loopbackAddress());
// The worst dead collector: it accepts the connection and never answers (a refused port fails fast).
const held: net.Socket[] = [];
const blackhole = net.createServer((s) => void held.push(s));
const blackholeAddress = loopbackAddress();
await new Promise<void>((r) => blackhole.listen(0, blackholeAddress, () => r()));
const blackholePort = (blackhole.address() as net.AddressInfo).port;

const meshConfigFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ambit-tracing-")), "mesh.yaml");
fs.writeFileSync(meshConfigFile, `
extensionProviders:
- name: otel
  opentelemetry: {service: "${receiver.address}", port: ${receiver.port}, http: {path: /v1/traces}}
- name: dead
  opentelemetry: {service: "${blackholeAddress}", port: ${blackholePort}, http: {path: /v1/traces}}
defaultProviders: {tracing: [otel]}
`);
const telemetry = (percent: number, provider = "otel") => `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
  tracing:
  - providers: [{name: ${provider}}]
    randomSamplingPercentage: ${percent}
    customTags:
      team: {literal: {value: payments}}
      caller: {header: {name: x-caller, defaultValue: unknown}}
`;
const pod = (name: string, node: string, address: string, labels: string, sa: string) =>
  `---\n${podYaml({ name, node, ip: address, serviceAccount: sa, labels: Object.fromEntries(labels.split(", ").map((l) => l.split(": ") as [string, string])) })}`;
const meshYaml = `
apiVersion: v1
kind: Namespace
metadata: {name: demo, labels: {istio.io/dataplane-mode: ambient}}
---
${waypointYaml({ name: "wp", address: ip.wp, node: "node-a" })}${pod("sleep", "node-a", ip.sleep, "app: sleep", "sleep")}${pod("hello", "node-b", ip.hello, "app: hello", "hello")}---
apiVersion: v1
kind: Service
metadata: {name: hello, namespace: demo, labels: {istio.io/use-waypoint: wp}}
spec: {selector: {app: hello}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
${telemetry(100)}`;

// The server records the traceparent each request reached it with.
const seenTraceparent = new Map<string, string>();
const backend = http.createServer((req, res) => {
  seenTraceparent.set(req.url ?? "", String(req.headers.traceparent ?? ""));
  res.end("hello");
});
await new Promise<void>((r) => backend.listen(8080, ip.hello, () => r()));
const cp = await startTestControlplane(["--mesh-config", meshConfigFile]);
assert.equal((await cp.apply(meshYaml)).status, 200);
const mesh = await startXdsMesh(cp, ["node-a", "node-b"], ["--tracing-endpoint", receiver.url, "--tracing-sampling", "100"]);
const adminToken = fs.readFileSync(`${cp.stateDir}/admin-token`, "utf8").trim();
const { token } = await cp.admin.json<{ token: string }>("POST", "/api/v1/waypoints/demo/wp/token", {}, { authorization: `Bearer ${adminToken}` });
const [cmd, args] = runtimeCommand("waypoint/main.ts", [
  "--gateway", "demo/wp", "--address", ip.wp, "--controlplane", cp.url, "--controlplane-ca", cp.rootCertFile, "--token", token, "--drain-seconds", "1",
]);
const waypoint = startProcess(cmd, args);
await waypoint.waitForLine(/waypoint\tready/, 30_000);

afterAll(async () => {
  waypoint.kill("SIGKILL");
  await waypoint.exited;
  await mesh.stop();
  await cp.kill();
  backend.close();
  await receiver.close();
  for (const s of held) s.destroy();
  blackhole.close();
});

/** Applies a mesh-wide Telemetry and waits until the waypoint holds it (its config_dump), with a deadline. */
async function setTelemetry(percent: number, provider = "otel"): Promise<void> {
  assert.equal((await cp.apply(telemetry(percent, provider))).status, 200);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const dump = await fetch(`http://${ip.wp}:15000/config_dump`).then((r) => r.json()) as { telemetry: { tracing?: { randomSamplingPercentage: number; provider: { name: string } } }[] };
    const t = dump.telemetry[0]?.tracing;
    if (t?.randomSamplingPercentage === percent && t.provider.name === provider) return;
    if (Date.now() > deadline) throw new Error(`the waypoint did not receive ${percent} % / ${provider} within 10 s: ${JSON.stringify(dump.telemetry)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `n` requests over one keep-alive connection from the client's SOCKS5 port (curl's URL globbing). */
async function curlBatch(pathPrefix: string, n: number, headers: string[] = []): Promise<{ code: number; seconds: number }[]> {
  const r = await runCommand("curl", [
    "-sS", "--max-time", "110", "-x", socksUrl(ip.sleep), ...headers.flatMap((h) => ["-H", h]), "-o", "/dev/null",
    "-w", "%{http_code}\t%{time_total}\n", `http://hello.demo.svc.cluster.local${pathPrefix}?n=[1-${n}]`,
  ], { timeoutMs: 120_000 });
  return [...r.stdout.matchAll(/(\d{3})\t([\d.]+)\n/g)].map(([, code = "0", s = "0"]) => ({ code: Number(code), seconds: Number(s) }));
}

const serverSpans = (prefix: string) => receiver.spans.filter((s) => s.service === "wp.demo" && s.kind === 2 && String(s.attributes["http.url"]).includes(`${prefix}?`));

test("one request: client → ztunnel → waypoint → ztunnel → server, as linked spans with Envoy's tags", async () => {
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736", clientSpan = "00f067aa0ba902b7";
  const replies = await curlBatch("/one", 1, [`traceparent: 00-${traceId}-${clientSpan}-01`, "x-caller: e2e"]);
  assert.deepEqual(replies.map((r) => r.code), [200]);
  const server = await receiver.waitFor((s) => s.service === "wp.demo" && s.kind === 2 && s.traceId === traceId);
  const client = await receiver.waitFor((s) => s.service === "wp.demo" && s.kind === 3 && s.traceId === traceId);
  const inbound = await receiver.waitFor((s) => s.service === "ztunnel" && s.name === "inbound connection" && s.traceId === traceId && s.attributes["dst.addr"] === `${ip.hello}:8080`);
  // The source ztunnel's connection: its traceparent rode the CONNECT to the waypoint, which links to it.
  const outbound = await receiver.waitFor((s) => s.service === "ztunnel" && s.name === "outbound connection" && s.attributes["src.workload"] === "demo/sleep");
  assert.equal(server.parentSpanId, clientSpan, "the waypoint continues the caller's trace");
  assert.equal(client.parentSpanId, server.spanId, "an attempt is the server span's child");
  assert.equal(inbound.parentSpanId, client.spanId, "the destination ztunnel continues the attempt's CONNECT traceparent");
  assert.equal(seenTraceparent.get("/one?n=1"), `00-${traceId}-${client.spanId}-01`, "the server receives the attempt's span as its parent");
  assert.ok(server.links.some((l) => l.spanId === outbound.spanId && l.traceId === outbound.traceId), "the server span links the source ztunnel's connection span");
  assert.equal(server.name, "hello.demo.svc.cluster.local:80/*");
  assert.equal(client.name, "router outbound|80||hello.demo.svc.cluster.local egress");
  const a = server.attributes;
  assert.equal(a["http.method"], "GET");
  assert.equal(a["http.url"], "http://hello.demo.svc.cluster.local/one?n=1");
  assert.equal(a["http.status_code"], 200);
  assert.equal(a["upstream_cluster"], "outbound|80||hello.demo.svc.cluster.local");
  assert.equal(a["component"], "proxy");
  assert.match(String(a["node_id"]), /^waypoint~.+~wp\.demo~demo\.svc\.cluster\.local$/);
  assert.equal(a["source.principal"], "spiffe://cluster.local/ns/demo/sa/sleep");
  assert.equal(a["destination.principal"], "spiffe://cluster.local/ns/demo/sa/hello");
  assert.equal(a["team"], "payments");
  assert.equal(a["caller"], "e2e");
  assert.equal(client.attributes["upstream_address"], `${ip.hello}:8080`);
  assert.equal(client.attributes["http.status_code"], 200);
}, { timeout: 60_000 });

test("a collector that never answers: requests neither fail nor wait, and the lost spans are counted", async () => {
  await setTelemetry(0);
  const off = await curlBatch("/dead-off", 1000);
  await setTelemetry(100, "dead");
  const started = Date.now();
  const on = await curlBatch("/dead-on", 1000);
  const tookMs = Date.now() - started;
  assert.equal(on.length, 1000);
  assert.deepEqual(on.filter((r) => r.code !== 200), []);
  const sum = (x: { seconds: number }[]) => x.reduce((t, r) => t + r.seconds, 0);
  console.log(`1,000 requests with a dead collector: ${tookMs} ms; total request time ${(sum(on) / sum(off)).toFixed(2)}× the same with tracing off (indicative, shared machine)`);
  // An export the request waited on would take the export timeout (5 s): none does.
  assert.ok(Math.max(...on.map((r) => r.seconds)) < 5, `slowest request ${Math.max(...on.map((r) => r.seconds))} s`);
  const deadline = Date.now() + 20_000;
  let dropped = 0;
  while (dropped === 0 && Date.now() < deadline) {
    const text = await fetch(`http://${ip.wp}:15020/metrics`).then((r) => r.text());
    dropped = [...text.matchAll(/^ambit_tracing_spans_dropped_total\{reason="[a-z_]+"\} (\d+)/gm)].reduce((t, m) => t + Number(m[1]), 0);
    if (dropped === 0) await new Promise((r) => setTimeout(r, 100));
  }
  console.log(`spans dropped and counted: ${dropped}`);
  assert.ok(dropped > 0, "ambit_tracing_spans_dropped_total stays 0");
}, { timeout: 120_000 });

test("sampling from the Telemetry API: 0 %, 100 % and 10 % (± 3) of 1,000 requests each", async () => {
  const counts: Record<number, number> = {};
  for (const percent of [0, 100, 10]) {
    await setTelemetry(percent);
    const replies = await curlBatch(`/p${percent}`, 1000);
    assert.equal(replies.length, 1000);
    assert.deepEqual(replies.filter((r) => r.code !== 200), []);
  }
  // Spans are exported in batches: once a later request's span is in, the earlier batches are too.
  await setTelemetry(100);
  await curlBatch("/sentinel", 1);
  await receiver.waitFor((s) => String(s.attributes["http.url"]).includes("/sentinel?"));
  for (const percent of [0, 100, 10]) counts[percent] = serverSpans(`/p${percent}`).length;
  console.log(`server spans per 1,000 requests: 0 % → ${counts[0]}, 100 % → ${counts[100]}, 10 % → ${counts[10]}`);
  assert.equal(counts[0], 0);
  assert.equal(counts[100], 1000);
  assert.ok(counts[10]! >= 70 && counts[10]! <= 130, `10 % sampled ${counts[10]} of 1000 (want 100 ± 30)`);
}, { timeout: 300_000 });
