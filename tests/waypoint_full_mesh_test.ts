// The whole mesh with a waypoint, every piece a real process: the controlplane,
// two ztunnels joined with join tokens, and the waypoint process authenticating
// with its waypoint token over TLS (its certificate from the CA, its routes over
// delta xDS). A client on node-a reaches `hello` through its SOCKS5 port; node-a's
// ztunnel sends it to the waypoint, which splits it between hello-v1 and
// hello-v2 on node-b. Checks: a 90/10 split over 1,000 requests, the x-canary
// header, and a live switch to 50/50 with `ambit apply` under continuous load.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import {
  afterAll, loopbackAddress, repoRoot, runCommand, runtimeCommand, socksConnect, startProcess, startTestControlplane, startXdsMesh, test,
} from "../testing/mod.ts";

const ip = { sleep: loopbackAddress(), v1: loopbackAddress(), v2: loopbackAddress(), wp: loopbackAddress(), forward: loopbackAddress() };
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
const pod = (name: string, node: string, address: string, labels: string, sa: string) => `---
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: demo, labels: {${labels}}}
spec: {nodeName: ${node}, serviceAccountName: ${sa}, containers: [{name: app, image: app}]}
status: {phase: Running, podIP: ${address}}
`;
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
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: wp, namespace: demo}
spec: {gatewayClassName: istio-waypoint, listeners: [{name: mesh, port: 15008, protocol: HBONE}]}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: wp-1, namespace: demo, labels: {gateway.networking.k8s.io/gateway-name: wp, ambit.dev/node: node-a}}
spec: {address: ${ip.wp}, serviceAccount: wp}
${pod("sleep", "node-a", ip.sleep, "app: sleep", "sleep")}${pod("hello-v1", "node-b", ip.v1, "app: hello, version: v1", "hello")}${pod("hello-v2", "node-b", ip.v2, "app: hello, version: v2", "hello")}${
  svc("hello", "app: hello", "{istio.io/use-waypoint: wp}")}${svc("hello-v1", "app: hello, version: v1")}${svc("hello-v2", "app: hello, version: v2")}---
${route(90, 10)}`;

const backends = (["v1", "v2"] as const).map((v) => http.createServer((_req, res) => res.end(v)));
await Promise.all(backends.map((s, i) => new Promise<void>((r) => s.listen(8080, i === 0 ? ip.v1 : ip.v2, () => r()))));
const cp = await startTestControlplane();
assert.equal((await cp.apply(meshYaml)).status, 200);
const mesh = await startXdsMesh(cp, ["node-a", "node-b"]);
const adminToken = fs.readFileSync(`${cp.stateDir}/admin-token`, "utf8").trim();
const { token } = await cp.admin.json<{ token: string }>("POST", "/api/v1/waypoints/demo/wp/token", {}, { authorization: `Bearer ${adminToken}` });
const [cmd, args] = runtimeCommand("waypoint/main.ts", [
  "--gateway", "demo/wp", "--address", ip.wp, "--controlplane", cp.url, "--controlplane-ca", cp.rootCertFile, "--token", token, "--drain-seconds", "1",
]);
const waypoint = startProcess(cmd, args);
await waypoint.waitForLine(/waypoint\tready/, 30_000);

// A plain TCP port in front of the client's SOCKS5 port, so an ordinary keep-alive HTTP agent can be used.
const forward = net.createServer(async (down) => {
  down.pause();
  const up = await socksConnect({ address: ip.sleep, port: 15080 }, "hello.demo.svc.cluster.local", 80);
  if (!up.ok) return void down.destroy();
  down.pipe(up.socket).pipe(down);
  down.on("error", () => up.socket.destroy());
  up.socket.on("error", () => down.destroy());
  down.resume();
});
await new Promise<void>((r) => forward.listen(0, ip.forward, () => r()));
const forwardPort = (forward.address() as net.AddressInfo).port;
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
afterAll(async () => {
  agent.destroy();
  forward.close();
  waypoint.kill("SIGKILL");
  await waypoint.exited;
  await mesh.stop();
  await cp.kill();
  for (const b of backends) b.close();
});

function get(headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: ip.forward, port: forwardPort, path: "/", headers: { host: "hello.demo.svc.cluster.local", ...headers }, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`status ${res.statusCode}: ${body}`))));
    });
    req.setTimeout(10_000, () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end();
  });
}

async function run(n: number, concurrency = 8): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < n) {
      const b = await get();
      counts.set(b, (counts.get(b) ?? 0) + 1);
    }
  }));
  return counts;
}

test("a 90/10 split: 1,000 requests through the waypoint land within ±3 % of 90/10; x-canary: true always reaches v2", async () => {
  const counts = await run(1000);
  const v2 = counts.get("v2") ?? 0;
  console.log(`90/10 split over 1000 requests: v1 ${counts.get("v1") ?? 0}, v2 ${v2}`);
  assert.equal((counts.get("v1") ?? 0) + v2, 1000);
  assert.ok(v2 >= 70 && v2 <= 130, `v2 got ${v2} of 1000 (want 100 ± 30)`);
  for (let i = 0; i < 20; i++) assert.equal(await get({ "x-canary": "true" }), "v2");
}, { timeout: 120_000 });

test("switching to 50/50 with `ambit apply` under continuous load: in effect within 1 s, 0 failed requests", async () => {
  const events: { at: number; backend?: string; error?: string }[] = [];
  let appliedAt = Number.POSITIVE_INFINITY;
  let stop = false;
  const load = Promise.all(Array.from({ length: 6 }, async () => {
    while (!stop) {
      const at = Date.now();
      try {
        events.push({ at, backend: await get() });
      } catch (e) {
        events.push({ at, error: (e as Error).message });
      }
      if (events.length > 200 && Date.now() > appliedAt + 1000 && events.filter((e) => e.at > appliedAt + 1000).length >= 1000) stop = true;
    }
  }));
  while (events.length < 200) await new Promise((r) => setTimeout(r, 20));
  const tokenFile = `${cp.stateDir}/admin-token`;
  const ambit = runtimeCommand("cli/main.ts", ["apply", "-f", "-", "--controlplane", cp.url, "--token-file", tokenFile, "--controlplane-ca", cp.rootCertFile]);
  const applied = await runCommand(ambit[0], ambit[1], { cwd: repoRoot, input: route(50, 50) });
  appliedAt = Date.now();
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
  await load;
  const failed = events.filter((e) => e.error);
  assert.deepEqual(failed, []);
  const after = events.filter((e) => e.at > appliedAt + 1000);
  const share = after.filter((e) => e.backend === "v2").length / after.length;
  // When it took effect: the first 100-request window after the apply with a v2 share above 30 %.
  const since = events.filter((e) => e.at >= appliedAt);
  let tookEffectMs = Number.NaN;
  for (let i = 0; i + 100 <= since.length; i += 10) {
    if (since.slice(i, i + 100).filter((e) => e.backend === "v2").length > 30) {
      tookEffectMs = since[i]!.at - appliedAt;
      break;
    }
  }
  console.log(`50/50 after the apply: v2 share ${(share * 100).toFixed(1)} % over ${after.length} requests started more than 1 s after it; in effect ~${tookEffectMs} ms after the apply returned; ${events.length} requests, 0 failed`);
  assert.ok(Math.abs(share - 0.5) <= 0.05, `v2 share ${share} after the switch`);
}, { timeout: 120_000 });
