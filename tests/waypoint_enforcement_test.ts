// The destination ztunnel enforces the waypoint: a Service behind a waypoint is
// reachable only through it. A client that dials the endpoint directly (skipping
// the waypoint) is refused by the destination's ztunnel with 401, logged and
// counted; the waypoint's own identity is let in, and only its `forwarded` header
// counts as the original source for policy. Two real ztunnels joined to a real
// controlplane; the "waypoint" is an HBONE client holding the certificate the CA
// issues to the waypoint token (the waypoint process is not under test here).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import { ConnectionPool, HboneStatusError } from "../hbone/mod.ts";
import { createCertificateRequest, spiffeId, type WorkloadCertificate } from "../identity/mod.ts";
import { Http2Client } from "../runtime/mod.ts";
import { afterAll, loopbackAddress, runCommand, socksUrl, startTestControlplane, startXdsMesh, test } from "../testing/mod.ts";
import { waypointYaml } from "../testing/kube_yaml.ts";

const ip = { sleep: loopbackAddress(), hello: loopbackAddress(), plain: loopbackAddress(), wp: loopbackAddress() };
const yaml = (policy = "") => `
apiVersion: v1
kind: Namespace
metadata: {name: demo, labels: {istio.io/dataplane-mode: ambient}}
---
${waypointYaml({ name: "wp", address: ip.wp, node: "node-a" })}apiVersion: v1
kind: Pod
metadata: {name: sleep, namespace: demo, labels: {app: sleep}}
spec: {nodeName: node-a, serviceAccountName: sleep, containers: [{name: sleep, image: curl}]}
status: {phase: Running, podIP: ${ip.sleep}}
---
apiVersion: v1
kind: Pod
metadata: {name: hello, namespace: demo, labels: {app: hello}}
spec: {nodeName: node-b, serviceAccountName: hello, containers: [{name: hello, image: hello}]}
status: {phase: Running, podIP: ${ip.hello}}
---
apiVersion: v1
kind: Service
metadata: {name: hello, namespace: demo, labels: {istio.io/use-waypoint: wp}}
spec: {selector: {app: hello}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: plain, namespace: demo, labels: {app: plain}}
spec: {nodeName: node-b, serviceAccountName: plain, containers: [{name: plain, image: hello}]}
status: {phase: Running, podIP: ${ip.plain}}
${policy}`;
// Only requests from the sleep pod's address may reach hello: through the waypoint, that is its forwarded source.
const fromSleepOnly = (from: string) => `---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: hello-from-sleep, namespace: demo}
spec: {selector: {matchLabels: {app: hello}}, action: ALLOW, rules: [{from: [{source: {ipBlocks: ["${from}"]}}]}]}
`;

const servers = [ip.hello, ip.plain].map((address) => http.createServer((req, res) => res.end(`${address} answers ${req.url}\n`)));
await Promise.all(servers.map((s, i) => new Promise<void>((r) => s.listen(8080, [ip.hello, ip.plain][i], () => r()))));
const cp = await startTestControlplane();
assert.equal((await cp.apply(yaml())).status, 200);
const mesh = await startXdsMesh(cp, ["node-a", "node-b"]);
const nodeB = mesh.nodes["node-b"]!;
const caPem = fs.readFileSync(cp.rootCertFile, "utf8");
const adminToken = fs.readFileSync(`${cp.stateDir}/admin-token`, "utf8").trim();
const pool = new ConnectionPool({ connectTimeoutMs: 5000 });
afterAll(async () => {
  pool.close();
  await mesh.stop();
  await cp.kill();
  for (const s of servers) s.close();
});

const curl = (url: string) => runCommand("curl", ["-sS", "--max-time", "5", "-x", socksUrl(ip.sleep), url]);

/** The waypoint's certificate, as a waypoint process gets it: its token, a CSR for its own identity. */
async function waypointCertificate(): Promise<WorkloadCertificate> {
  const { token } = await cp.admin.json<{ token: string }>("POST", "/api/v1/waypoints/demo/wp/token", {}, { authorization: `Bearer ${adminToken}` });
  const identity = spiffeId("cluster.local", "demo", "wp");
  const csr = await createCertificateRequest(identity);
  const c = new Http2Client(cp.url, { ca: caPem, checkServerIdentity: () => undefined });
  const issued = await c.json<{ certChain: string[]; notAfter: string }>("POST", "/ca/v1/certificates", { csr: csr.csrPem }, { authorization: `Bearer ${token}` });
  c.close();
  return { identity, chainPem: issued.certChain, privateKeyPem: csr.key.privateKeyPem, trustBundlePem: [caPem], serialNumber: "", notBefore: new Date(), notAfter: new Date(issued.notAfter) };
}
const wpCert = await waypointCertificate();

async function asWaypoint(forwardedFor?: string): Promise<number | string> {
  try {
    const t = await pool.connect({
      source: wpCert, hboneAddress: { address: ip.hello, port: 15008 }, expectedIdentities: [spiffeId("cluster.local", "demo", "hello")],
      target: { address: ip.hello, port: 8080 },
      ...(forwardedFor ? { headers: { forwarded: `for="${forwardedFor}:40000";host=hello.demo.svc.cluster.local` } } : {}),
    });
    t.stream.end("GET /via-waypoint HTTP/1.0\r\n\r\n");
    let body = "";
    for await (const chunk of t.stream) body += String(chunk);
    return body;
  } catch (e) {
    return e instanceof HboneStatusError ? e.status : (e as Error).message;
  }
}

test("a direct connection to the endpoint of a waypointed Service, skipping the waypoint, is refused by the destination ztunnel", async () => {
  const r = await curl(`http://${ip.hello}:8080/direct`);
  assert.notEqual(r.code, 0, `got through: ${r.stdout}`);
  const metrics = await nodeB.metrics();
  assert.match(metrics, /ambit_authorization_decisions_total\{[^}]*decision="deny"[^}]*policy="waypoint-bypassed"[^}]*\} [1-9]/);
  // A workload no waypoint guards is still reached directly.
  const plain = await curl(`http://${ip.plain}:8080/direct`);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /answers \/direct/);
}, { timeout: 30_000 });

test("the waypoint's own identity is admitted to the same endpoint", async () => {
  const body = await asWaypoint();
  assert.match(String(body), /answers \/via-waypoint/);
}, { timeout: 30_000 });

test("policy at the destination sees the waypoint's forwarded source, and only the waypoint's", async () => {
  assert.equal((await cp.apply(yaml(fromSleepOnly(ip.sleep)))).status, 200);
  const deadline = Date.now() + 10_000;
  // The policy is in once a connection without the sleep source is refused.
  while ((await asWaypoint("10.1.2.3")) !== 401) {
    assert.ok(Date.now() < deadline, "policy never arrived at node-b");
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(String(await asWaypoint(ip.sleep)), /answers \/via-waypoint/);
  // A non-waypoint peer cannot borrow a source with forwarded: it does not even get past the waypoint check.
  const r = await curl(`http://${ip.hello}:8080/direct`);
  assert.notEqual(r.code, 0);
}, { timeout: 30_000 });
