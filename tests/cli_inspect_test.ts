// The inspection verbs against a real controlplane and two ztunnels that
// joined it with join tokens: proxy-status (and a NACK it must show),
// ztunnel-config from each node's admin API, version, node tokens.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import {
  afterAll, loopbackAddress, readAll, repoRoot, runCommand, runtimeCommand, socksConnect, startTestControlplane, startXdsMesh, test,
} from "../testing/mod.ts";

const ip = { sleep: loopbackAddress(), echo: loopbackAddress() };
const echo = http.createServer((req, res) => res.end(`echo ${req.url}\n`));
await new Promise<void>((r) => echo.listen(8080, ip.echo, () => r()));
const cp = await startTestControlplane();
const ambit = (args: string[], input?: string) => cp.cli(args, { input });
const mesh = `
apiVersion: v1
kind: Namespace
metadata: {name: demo, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Pod
metadata: {name: sleep, namespace: demo, labels: {app: sleep}}
spec: {nodeName: node-a, serviceAccountName: sleep, containers: [{name: sleep, image: curl}]}
status: {phase: Running, podIP: ${ip.sleep}}
---
apiVersion: v1
kind: Pod
metadata: {name: echo, namespace: demo, labels: {app: echo}}
spec: {nodeName: node-b, serviceAccountName: echo, containers: [{name: echo, image: echo, ports: [{name: http, containerPort: 8080}]}]}
status: {phase: Running, podIP: ${ip.echo}}
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: demo}
spec: {selector: {app: echo}, ports: [{name: http, port: 80, targetPort: http}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: echo-from-sleep, namespace: demo}
spec:
  selector: {matchLabels: {app: echo}}
  rules: [{from: [{source: {principals: [cluster.local/ns/demo/sa/sleep]}}]}]
`;
assert.equal((await ambit(["apply", "-f", "-"], mesh)).code, 0);
const xds = await startXdsMesh(cp, ["node-a", "node-b"]);
afterAll(async () => {
  await xds.stop();
  await cp.kill();
  echo.close();
});
const nodeA = xds.nodes["node-a"]!;
const nodeB = xds.nodes["node-b"]!;

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("proxy-status: both nodes connected, every type synced", async () => {
  const r = await until("both nodes synced", async () => {
    const r = await ambit(["proxy-status"]);
    return (r.stdout.match(/CONNECTED\s+SYNCED \(\d+\)\s+SYNCED \(\d+\)\s+SYNCED \(\d+\)\s+SYNCED \(\d+\)/g) ?? []).length === 2 ? r : undefined;
  });
  assert.match(r.stdout, /^NODE\s+ADDRESS\s+STATUS\s+WORKLOAD\s+SERVICE\s+AUTHORIZATION\s+TRUSTBUNDLE\s+SINCE$/m);
  assert.match(r.stdout, new RegExp(`^node-a\\s+${nodeA.address.replace(/\./g, "\\.")}\\s+CONNECTED`, "m"));
  const json = JSON.parse((await ambit(["proxy-status", "node-b", "-o", "json"])).stdout);
  assert.equal(json.length, 1);
  assert.equal(json[0].node.nodeName, "node-b");
  assert.deepEqual(json[0].node.ips, [nodeB.address]);
});

test("proxy-status shows the NACK when a ztunnel rejects a resource, with the ztunnel's message", async () => {
  const wildcard = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: wild, namespace: demo}
spec: {hosts: ["*.x.example"], addresses: ["240.1.0.1"], ports: [{number: 80, name: http, protocol: HTTP}], location: MESH_INTERNAL, resolution: STATIC, workloadSelector: {labels: {app: echo}}}
`;
  assert.equal((await ambit(["apply", "-f", "-"], wildcard)).code, 0);
  const r = await until("NACK shown", async () => {
    const r = await ambit(["proxy-status"]);
    return (r.stdout.match(/NACKED/g) ?? []).length >= 2 ? r : undefined;
  });
  assert.match(r.stdout, /^node-a\s+\S+\s+CONNECTED\s+SYNCED \(\d+\)\s+NACKED\s+/m);
  assert.match(r.stdout, /^NACKs:$/m);
  assert.match(r.stdout, /^ {2}node-a Service \(current, \d+s ago\): .*wildcard.* \[rejected: demo\/\*\.x\.example\]$/m);
  const json = JSON.parse((await ambit(["proxy-status", "-o", "json"])).stdout);
  const service = json[0].types.find((t: { typeUrl: string }) => t.typeUrl.endsWith("Service"));
  assert.deepEqual(service.lastNack.failedResources, ["demo/*.x.example"]);
  assert.equal((await ambit(["delete", "-f", "-"], wildcard)).code, 0);
});

test("ztunnel-config workloads, services, policies from a node's admin API; -o json parses", async () => {
  const w = await ambit(["ztunnel-config", "workloads"]);
  assert.equal(w.code, 0, w.stderr);
  assert.match(w.stdout, /^NAMESPACE\s+NAME\s+ADDRESS\s+NODE\s+WAYPOINT\s+PROTOCOL\s+STATUS$/m);
  assert.match(w.stdout, new RegExp(`^demo\\s+echo\\s+${ip.echo.replace(/\./g, "\\.")}\\s+node-b\\s+None\\s+HBONE\\s+HEALTHY$`, "m"));
  assert.match(w.stdout, /^demo\s+sleep\s+\S+\s+node-a\s/m);
  const s = await ambit(["ztunnel-config", "services", "--node", "node-b"]);
  assert.match(s.stdout, /^demo\s+echo\.demo\.svc\.cluster\.local\s+\S+\s+80\s+None\s+1\/1$/m);
  const p = await ambit(["ztunnel-config", "policy", "-n", "demo"]);
  assert.match(p.stdout, /^demo\s+echo-from-sleep\s+ALLOW\s+WORKLOAD_SELECTOR\s+1\s+no$/m);
  for (const section of ["workloads", "services", "policies"]) {
    const data = JSON.parse((await ambit(["ztunnel-config", section, "-o", "json"])).stdout);
    assert.ok(Array.isArray(data) && data.length > 0, section);
  }
  const none = JSON.parse((await ambit(["ztunnel-config", "workloads", "-n", "elsewhere", "-o", "json"])).stdout);
  assert.deepEqual(none, []);
});

test("ztunnel-config certificates and connections ask every node; --node-address needs no controlplane", async () => {
  const certs = await ambit(["ztunnel-config", "certificates"]);
  assert.match(certs.stdout, /^node-a\s+spiffe:\/\/cluster\.local\/ns\/demo\/sa\/sleep\s+available\s+[0-9a-f]+\s/m);
  assert.match(certs.stdout, /^node-b\s+spiffe:\/\/cluster\.local\/ns\/demo\/sa\/echo\s+available\s/m);
  const open = await socksConnect({ address: ip.sleep, port: 15080 }, "echo.demo.svc.cluster.local", 80);
  assert.ok(open.ok);
  try {
    const conns = await until("the open connection", async () => {
      const r = await ambit(["ztunnel-config", "connections", "-o", "json"]);
      const list = JSON.parse(r.stdout) as { node: string; direction: string; sourceIdentity?: string }[];
      return list.some((c) => c.node === "node-a" && c.direction === "outbound") && list.some((c) => c.node === "node-b" && c.direction === "inbound") ? list : undefined;
    });
    assert.ok(conns.some((c) => c.sourceIdentity === "spiffe://cluster.local/ns/demo/sa/sleep"));
    const table = await ambit(["ztunnel-config", "connections"]);
    assert.match(table.stdout, /^node-b\s+inbound\s+/m);
  } finally {
    open.socket.write("GET /bye HTTP/1.0\r\n\r\n");
    await readAll(open.socket);
  }
  const [cmd, argv] = runtimeCommand("cli/main.ts", ["ztunnel-config", "all", "-o", "json", "--node-address", nodeB.address, "--controlplane", "http://127.0.0.1:1"]);
  const all = await runCommand(cmd, argv, { cwd: repoRoot });
  assert.equal(all.code, 0, all.stderr);
  const data = JSON.parse(all.stdout);
  assert.equal(data.node, "node-b");
  assert.deepEqual(Object.keys(data).sort(), ["certificates", "connections", "node", "policies", "services", "workloads"]);
});

test("version: client, controlplane and each ztunnel", async () => {
  const r = await ambit(["version"]);
  assert.equal(r.code, 0, r.stderr);
  const version = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")).version;
  assert.match(r.stdout, new RegExp(`^client\\s+ambit\\s+${version} \\((bun|deno) `, "m"));
  assert.match(r.stdout, new RegExp(`^controlplane\\s+${cp.url.replace(/\./g, "\\.")}\\s+${version}$`, "m"));
  for (const n of [nodeA, nodeB]) assert.match(r.stdout, new RegExp(`^ztunnel\\s+${n.name}\\s+${n.address.replace(/\./g, "\\.")}\\s+${version}$`, "m"));
});

test("node token create prints a token a node can join with; revoke refuses it", async () => {
  const created = await ambit(["node", "token", "create", "node-c"]);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /^ambitjoin\.node-c\.\S+\n$/);
  assert.match(created.stderr, /--join-token/);
  const join = await cp.admin.request("POST", "/nodes/v1/join", { body: "{}", headers: { authorization: `Bearer ${created.stdout.trim()}` } });
  await join.text();
  assert.equal(join.status, 400, "a valid token gets past authentication (and fails only for the missing CSR)");
  const revoked = await ambit(["node", "token", "revoke", "node-c", "-o", "json"]);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.deepEqual(JSON.parse(revoked.stdout), { node: "node-c", state: "revoked", closedStreams: 0 });
  const refused = await cp.admin.request("POST", "/nodes/v1/join", { body: "{}", headers: { authorization: `Bearer ${created.stdout.trim()}` } });
  await refused.text();
  assert.equal(refused.status, 401);
  const unknown = await ambit(["node", "token", "revoke", "node-zz"]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /unknown node node-zz/);
});
