// Traffic through a real waypoint with real clients: weighted splits (and a
// live change of weights under load), h2c, gRPC from grpc-js and python3-grpcio
// (GRPCRoute method/header matches and weights), a websocket, curl, wrk and
// h2load, then Istio's request metrics checked by promtool. Ports the
// conformance cases MeshHTTPRouteWeight, GRPCRouteWeight,
// GRPCRouteExactMethodMatching, GRPCRouteHeaderMatching and
// HTTPRouteBackendProtocolH2C / -WebSocket.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http2 from "node:http2";
import * as path from "node:path";
import { grpcEchoClient } from "../testing/grpc_echo.ts";
import { afterAll, runtime, test } from "../testing/harness.ts";
import { runCommand } from "../testing/processes.ts";
import { startWaypointMesh } from "../testing/waypoint_mesh.ts";
import { header, serviceRoutes } from "../testing/waypoint_routes.ts";

const grpcPath = (method: string) => ({ path: { type: "Exact" as const, value: `/ambit.test.Echo/${method}` } });
const mesh = await startWaypointMesh([
  { name: "split", vip: "10.96.3.1", backends: ["split-v1", "split-v2"] },
  { name: "split-v1", vip: "10.96.3.11", backends: ["split-v1"] },
  { name: "split-v2", vip: "10.96.3.12", backends: ["split-v2"] },
  { name: "grpc", vip: "10.96.3.20", protocol: "GRPC", backends: ["grpc-v1", "grpc-v2"] },
  { name: "grpc-v1", vip: "10.96.3.21", protocol: "GRPC", backends: ["grpc-v1"] },
  { name: "grpc-v2", vip: "10.96.3.22", protocol: "GRPC", backends: ["grpc-v2"] },
], (k) => routesWith(k, 90, 10), { grpcBackends: ["grpc-v1", "grpc-v2"] });
afterAll(() => mesh.stop());

function routesWith(k: Record<string, string>, w1: number, w2: number) {
  return [
    serviceRoutes(k.split!, [{ backends: [{ service: k["split-v1"]!, weight: w1 }, { service: k["split-v2"]!, weight: w2 }] }]),
    {
      ...serviceRoutes(k.grpc!, [
        { kind: "GRPCRoute", matches: [{ ...grpcPath("Echo"), headers: [header("x-canary", "true")] }], backends: [k["grpc-v2"]!] },
        { kind: "GRPCRoute", matches: [grpcPath("Echo")], backends: [{ service: k["grpc-v1"]!, weight: 70 }, { service: k["grpc-v2"]!, weight: 30 }] },
        { kind: "GRPCRoute", matches: [grpcPath("Fail")], backends: [k["grpc-v1"]!] },
      ]),
      protocols: { 80: "GRPC" as const },
    },
  ];
}

/** Sends `n` requests, `concurrency` at a time, counting backends and failures. */
async function load(n: number, concurrency: number, onEach?: (i: number) => void) {
  const counts: Record<string, number> = {};
  let failures = 0;
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      const i = next++;
      onEach?.(i);
      try {
        const r = await mesh.request("split", { keepAlive: true });
        if (r.status !== 200) failures++;
        else counts[r.echo!.backend] = (counts[r.echo!.backend] ?? 0) + 1;
      } catch {
        failures++;
      }
    }
  }));
  return { counts, failures };
}

test("MeshHTTPRouteWeight: 1,000 requests land within ±3 % of 90/10", async () => {
  const { counts, failures } = await load(1000, 8);
  assert.equal(failures, 0);
  const v2 = counts["split-v2"] ?? 0;
  assert.ok(v2 >= 70 && v2 <= 130, `split-v2 got ${v2} of 1000 (want 100 ± 30)`);
}, { timeout: 90_000 });

test("weights changed to 50/50 under continuous load: in effect within 1 s, no failed request", async () => {
  let switchedAt = 0;
  const seen: { at: number; backend: string }[] = [];
  const counts: Record<string, number> = {};
  let failures = 0;
  const reasons = new Set<string>();
  let stop = false;
  const worker = async () => {
    while (!stop) {
      try {
        const r = await mesh.request("split", { keepAlive: true });
        if (r.status !== 200) (failures++, reasons.add(`${r.status} ${r.body.slice(0, 80)}`));
        else seen.push({ at: Date.now(), backend: r.echo!.backend });
      } catch (e) {
        failures++;
        reasons.add((e as Error).message);
      }
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  await new Promise((r) => setTimeout(r, 500));
  mesh.writeRoutes(routesWith(mesh.keys, 50, 50));
  switchedAt = Date.now();
  await new Promise((r) => setTimeout(r, 3000));
  stop = true;
  await Promise.all(workers);
  assert.equal(failures, 0, `failed requests during the change: ${[...reasons].join("; ")}`);
  for (const s of seen.filter((s) => s.at > switchedAt + 1000)) counts[s.backend] = (counts[s.backend] ?? 0) + 1;
  const total = (counts["split-v1"] ?? 0) + (counts["split-v2"] ?? 0);
  assert.ok(total >= 50, `only ${total} requests after the change settled`);
  const share = (counts["split-v2"] ?? 0) / total;
  assert.ok(share > 0.35 && share < 0.65, `split-v2 share ${share.toFixed(2)} of ${total} one second after the change`);
}, { timeout: 60_000 });

test("HTTPRouteBackendProtocolH2C: h2c with prior knowledge, many streams on one connection", async () => {
  const f = await mesh.forwarder("split-v1");
  const session = http2.connect(`http://${f.address}:${f.port}`);
  try {
    const one = (i: number) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const s = session.request({ ":path": `/h2/${i}`, ":authority": "split-v1.default.svc.cluster.local" });
        let body = "";
        let status = 0;
        s.on("response", (h) => (status = Number(h[":status"])));
        s.on("data", (d) => (body += d));
        s.on("end", () => resolve({ status, body }));
        s.on("error", reject);
        s.end();
      });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => one(i)));
    for (const [i, r] of results.entries()) {
      assert.equal(r.status, 200);
      const echo = JSON.parse(r.body);
      assert.equal(echo.path, `/h2/${i}`);
      assert.equal(echo.protocol, "HTTP/2.0");
    }
  } finally {
    session.close();
  }
}, { timeout: 20_000 });

test("GRPCRouteExactMethodMatching, GRPCRouteHeaderMatching, GRPCRouteWeight: grpc-js through the waypoint", async () => {
  const f = await mesh.forwarder("grpc");
  const shared = grpcEchoClient(`${f.address}:${f.port}`, "grpc.default.svc.cluster.local");
  const withClient = <T>(fn: (c: ReturnType<typeof grpcEchoClient>) => Promise<T>): Promise<T> => fn(shared);
  try {
    assert.equal((await withClient((c) => c.echo("hi", { "x-canary": "true" }))).backend, "grpc-v2");
    const counts: Record<string, number> = {};
    for (let i = 0; i < 200; i++) {
      const r = await withClient((c) => c.echo(`m${i}`));
      assert.equal(r.message, `m${i}`);
      counts[r.backend] = (counts[r.backend] ?? 0) + 1;
    }
    assert.ok((counts["grpc-v2"] ?? 0) > 30 && (counts["grpc-v2"] ?? 0) < 90, `grpc-v2 got ${counts["grpc-v2"]} of 200 (want ~60)`);
    await assert.rejects(withClient((c) => c.fail("x")), (e: { code: number }) => e.code === 5);
  } finally {
    shared.close();
  }
}, { timeout: 30_000 });

test("python3-grpcio through the waypoint", async () => {
  const f = await mesh.forwarder("grpc");
  const script = [
    "import grpc, sys",
    `ch = grpc.insecure_channel("${f.address}:${f.port}", options=[("grpc.default_authority", "grpc.default.svc.cluster.local")])`,
    "call = ch.unary_unary('/ambit.test.Echo/Echo', request_serializer=None, response_deserializer=None)",
    "reply = call(b'\\x0a\\x05hello', timeout=10)",
    "fail = ch.unary_unary('/ambit.test.Echo/Fail', request_serializer=None, response_deserializer=None)",
    "try:\n    fail(b'', timeout=10)\n    sys.exit('Fail did not fail')\nexcept grpc.RpcError as e:\n    assert e.code() == grpc.StatusCode.NOT_FOUND, e.code()",
    "print(reply.hex())",
  ].join("\n");
  // Debian's python3-grpcio is installed for the system interpreter.
  const r = await runCommand("/usr/bin/python3", ["-c", script], { timeoutMs: 20_000 });
  assert.equal(r.code, 0, r.stderr);
  const reply = Buffer.from(r.stdout.trim(), "hex").toString("latin1");
  assert.ok(reply.includes("hello") && /grpc-v[12]/.test(reply), `reply: ${JSON.stringify(reply)}`);
}, { timeout: 30_000 });

test("HTTPRouteBackendProtocolWebSocket: a websocket echoes through the waypoint", async () => {
  const f = await mesh.forwarder("split-v1");
  const ws = new WebSocket(`ws://${f.address}:${f.port}/ws`);
  const got = await new Promise<string>((resolve, reject) => {
    ws.onopen = () => ws.send("ping through the waypoint");
    ws.onmessage = (e) => resolve(String(e.data));
    ws.onerror = () => reject(new Error("websocket error"));
  });
  ws.close();
  assert.equal(got, "ping through the waypoint");
}, { timeout: 20_000 });

test("curl and wrk work through the waypoint", async () => {
  const f = await mesh.forwarder("split-v1");
  const url = `http://${f.address}:${f.port}/tools`;
  const c = await runCommand("curl", ["-sS", "-H", "host: split-v1.default.svc.cluster.local", url, url]);
  assert.equal(c.code, 0, c.stderr);
  assert.equal(c.stdout.match(/"backend":"split-v1"/g)?.length, 2);
  const post = await runCommand("curl", ["-sS", "-v", "-H", "Expect: 100-continue", "--data-binary", "@-", url], { input: "x".repeat(200_000) });
  assert.match(post.stdout, /"bodyBytes":200000/, `curl: exit ${post.code} ${post.stderr}`);
  const w = await runCommand("wrk", ["-t1", "-c4", "-d1s", url]);
  assert.equal(w.code, 0, w.stderr);
  assert.doesNotMatch(w.stdout, /Non-2xx/);
}, { timeout: 30_000 });

test("request metrics: reporter=waypoint with Istio's labels, promtool-clean", async () => {
  const text = await mesh.waypoint.metrics();
  const line = text.split("\n").find((l) => l.startsWith("istio_requests_total{") && l.includes('destination_workload="split-v1"') && l.includes('response_code="200"'));
  assert.ok(line, "no istio_requests_total series for split-v1");
  for (const label of ['reporter="waypoint"', 'source_workload="sleep"', 'source_principal="spiffe://cluster.local/ns/default/sa/sleep"', 'destination_service="split-v1.default.svc.cluster.local"', 'request_protocol="http"', 'destination_principal="spiffe://cluster.local/ns/default/sa/split-v1"']) {
    assert.ok(line.includes(label), `${label} missing in ${line}`);
  }
  assert.ok(text.split("\n").some((l) => l.startsWith("istio_requests_total{") && l.includes('request_protocol="grpc"') && l.includes('grpc_response_status="5"')), "no grpc series with grpc_response_status 5");
  assert.match(text, /istio_request_duration_milliseconds_bucket\{.*le="\+Inf"\} \d+/);
  assert.match(text, /istio_request_bytes_count\{/);
  assert.match(text, /istio_response_bytes_sum\{/);
  const file = path.join(mesh.dir, "metrics.txt");
  fs.writeFileSync(file, text);
  const lint = await runCommand("promtool", ["check", "metrics"], { input: text });
  // Istio's names end in _milliseconds and _bytes; the "use base units" lint is the only one allowed.
  const problems = (lint.stdout + lint.stderr).split("\n").filter((l) => l.trim() && !/use base unit|should be seconds|seconds/.test(l));
  assert.deepEqual(problems, [], `promtool: ${lint.stdout}${lint.stderr}`);
}, { timeout: 20_000 });

// One connection on Deno: a Deno node:http2 server whose client sessions close together sometimes
// aborts inside nghttp2 (denoland/deno#36788) — a bare http2.createServer() under `h2load -c2` does
// it too, in some runs and not others, so it cannot be an expected failure (docs/waypoint.md).
test("h2load (h2c, ten streams per connection) works through the waypoint", async () => {
  const f = await mesh.forwarder("split-v1");
  const url = `http://${f.address}:${f.port}/h2load`;
  const h = await runCommand("h2load", ["-n200", runtime === "deno" ? "-c1" : "-c2", "-m10", url], { timeoutMs: 15_000 });
  assert.equal(h.code, 0, h.stderr);
  assert.match(h.stdout, /200 succeeded, 0 failed/);
}, { timeout: 30_000 });
