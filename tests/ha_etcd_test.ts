// HA on etcd (docs/ha.md): three controlplanes share one real etcd 3.4 (Debian
// etcd-server, one member on loopback, data in a temp directory). Three
// ztunnels list the replicas in different orders, so each streams from another
// one. Real processes, real TLS, loopback; nothing is faked.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import { createUriCertificateRequest, joinPem, nodeUri } from "../identity/mod.ts";
import { Http2Client } from "../runtime/mod.ts";
import { DeltaXdsClient } from "../xds/client.ts";
import { ALL_TYPE_URLS, WAYPOINT_TYPE_URLS } from "../xds/protocol.ts";
import { startEtcd } from "../testing/etcd.ts";
import { ambientNamespaceYaml, podYaml, serviceYaml } from "../testing/kube_yaml.ts";
import {
  afterAll, loopbackAddress, readAll, socksConnect, startTestControlplane, startXdsMesh, type TestControlplane, type TestNode, test,
} from "../testing/mod.ts";
import { until } from "../testing/until.ts";

const ip = { client: loopbackAddress(), echo: loopbackAddress() };
const etcd = await startEtcd();
// The first replica creates the CA and the admin token; the other two, started together, adopt them.
const cps: TestControlplane[] = [await startTestControlplane(["--store", etcd.url])];
cps.push(...await Promise.all([1, 2].map(() => startTestControlplane(["--store", etcd.url]))));
const echo = http.createServer((req, res) => res.end(`echo answers ${req.url}\n`));
await new Promise<void>((r) => echo.listen(8080, ip.echo, () => r()));

const pod = (name: string, node: string, address: string, serviceAccount: string) => podYaml({ name, node, ip: address, serviceAccount });
const meshYaml = ambientNamespaceYaml("demo", ["client", "echo"]) + pod("client", "node-a", ip.client, "client") + "---\n" +
  pod("echo", "node-b", ip.echo, "echo") + "---\n" + serviceYaml({ name: "echo" }) + `---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: external, namespace: demo}
spec: {hosts: [db.example.com], location: MESH_INTERNAL, ports: [{number: 5432, name: tcp, protocol: TCP}], resolution: STATIC, endpoints: [{address: 127.0.0.9}]}
`;
assert.equal((await cps[1]!.apply(meshYaml)).status, 200);
const order = (first: number) => [0, 1, 2].map((i) => cps[(first + i) % 3]!.url).join(",");
const replicaOf: Record<string, number> = { "node-a": 0, "node-b": 1, "node-c": 2 };
const mesh = await startXdsMesh(cps[0]!, Object.keys(replicaOf), [], (node) => order(replicaOf[node]!));
const nodes = Object.values(mesh.nodes);
afterAll(async () => {
  await mesh.stop();
  for (const cp of cps) if (cp.proc.child.exitCode === null) await cp.kill();
  await etcd.kill();
  echo.close();
});

type XdsView = { stats: { streams: number; url: string; connected: boolean }; received: { nonce: string; typeUrl: string; resources: string[] }[] };
const xdsView = async (node: TestNode) => (await (await node.admin("/debug/xds")).json()) as XdsView;
const configDump = async (node: TestNode) => (await (await node.admin("/config_dump")).json()) as { workloads: { name: string }[]; services: { hostname: string; vips: { address: string }[] }[]; config: { xds: XdsView["stats"] } };
const adminGet = async (cp: TestControlplane, p: string) => {
  const token = fs.readFileSync(`${cp.stateDir}/admin-token`, "utf8").trim();
  return await cp.admin.json<any>("GET", p, undefined, { authorization: `Bearer ${token}` });
};

test("each ztunnel streams from its first replica; all replicas translate alike (one CA, one admin token, one VIP per service)", async () => {
  for (const n of nodes) assert.equal((await xdsView(n)).stats.url, cps[replicaOf[n.name]!]!.url, n.name);
  const planes = await Promise.all(cps.map((cp) => adminGet(cp, "/api/v1/dataplane")));
  const vipOf = (p: any) => p.services.find((s: any) => s.hostname === "db.example.com").vips;
  assert.equal(vipOf(planes[0]).length, 1);
  for (const p of planes) assert.deepEqual(vipOf(p), vipOf(planes[0]));
  for (const p of planes) assert.deepEqual(p.workloads, planes[0].workloads);
});

test("a write through any replica is pushed to every ztunnel, whichever replica it streams from, within 1 s", async () => {
  for (const [i, cp] of cps.entries()) {
    const started = Date.now();
    assert.equal((await cp.apply(pod(`extra-${i}`, "node-c", loopbackAddress(), "echo"))).status, 200);
    await Promise.all(nodes.map((n) => until(`extra-${i} at ${n.name}`, async () => (await configDump(n)).workloads.some((w) => w.name === `extra-${i}`), 5_000)));
    const took = Date.now() - started;
    console.log(`a write through replica ${i} reached all ztunnels in ${took} ms`);
    assert.ok(took < 1000, `write through replica ${i} took ${took} ms to reach all ztunnels`);
  }
});

test("concurrent conflicting writes: one wins, the others get 409, and no accepted write is lost", async () => {
  const current = await adminGet(cps[2]!, "/api/v1/objects/Service/demo/echo");
  const labelled = (n: number, resourceVersion?: string) => serviceYaml({ name: "echo", labels: { writer: `w${n}` }, resourceVersion });
  const racing = await Promise.all(Array.from({ length: 9 }, (_, n) => cps[n % 3]!.apply(labelled(n, current.metadata.resourceVersion))));
  assert.deepEqual(racing.map((r) => r.status).sort(), [200, 409, 409, 409, 409, 409, 409, 409, 409]);
  const winner = racing.findIndex((r) => r.status === 200);
  for (const cp of cps) assert.equal((await adminGet(cp, "/api/v1/objects/Service/demo/echo")).metadata.labels.writer, `w${winner}`);
  // Writes without a version to different objects, through all replicas at once: every one lands.
  const many = await Promise.all(Array.from({ length: 9 }, (_, n) => cps[n % 3]!.apply(`{apiVersion: v1, kind: ServiceAccount, metadata: {name: sa-${n}, namespace: demo}}`)));
  assert.ok(many.every((r) => r.status === 200));
  for (const cp of cps) {
    const names = (await adminGet(cp, "/api/v1/objects?kind=ServiceAccount&namespace=demo")).items.map((o: any) => o.metadata.name);
    for (let n = 0; n < 9; n++) assert.ok(names.includes(`sa-${n}`), `sa-${n} missing at ${cp.url}`);
  }
});

/** New connections client → echo through the mesh, one after another, until stopped. */
function traffic(): { stop(): Promise<{ ok: number; failed: string[] }> } {
  let running = true;
  const result = { ok: 0, failed: [] as string[] };
  const loop = (async () => {
    while (running) {
      const r = await socksConnect({ address: ip.client, port: 15080 }, "echo.demo.svc.cluster.local", 80, 5_000);
      if (!r.ok) {
        result.failed.push(`SOCKS reply ${r.reply}`);
        continue;
      }
      r.socket.end("GET /ha HTTP/1.0\r\n\r\n");
      const text = await readAll(r.socket).catch((e: Error) => e.message);
      if (text.endsWith("echo answers /ha\n")) result.ok++;
      else result.failed.push(text.slice(0, 200));
    }
  })();
  return { stop: async () => (running = false, await loop, result) };
}

test("kill -9 of the replica a ztunnel streams from: it resumes at the next without a resend, pushes keep coming, 0 failed connections", async () => {
  const a = mesh.nodes["node-a"]!;
  const before = await xdsView(a);
  const load = traffic();
  await until("traffic flowing", async () => (await configDump(a)).workloads.length > 0);
  await cps[0]!.kill("SIGKILL");
  const killedAt = Date.now();
  const after = await until("node-a on another replica", async () => {
    const v = await xdsView(a);
    const fresh = v.received.filter((r) => !before.received.some((b) => b.nonce === r.nonce));
    return v.stats.streams > before.stats.streams && v.stats.connected && new Set(fresh.map((r) => r.typeUrl)).size === 4 ? v : undefined;
  });
  console.log(`node-a streaming from replica 1 ${Date.now() - killedAt} ms after the kill -9 of replica 0`);
  assert.equal(after.stats.url, cps[1]!.url);
  // The new stream's first responses (one per type) carry nothing: the versions node-a reported are current.
  const resumed = after.received.filter((r) => !before.received.some((b) => b.nonce === r.nonce));
  assert.deepEqual(resumed.flatMap((r) => r.resources), []);
  // ACKs reached the replica that holds the stream.
  await until("node-a's ACKs at replica 1", async () => {
    const status = await adminGet(cps[1]!, "/api/v1/proxy-status");
    const stream = status.proxies.find((p: any) => p.node.nodeName === "node-a" && p.connected);
    return stream && stream.types.every((t: any) => t.lastAckedNonce && t.pendingNonces === 0);
  });
  // A write through the third replica still reaches node-a within 1 s.
  const started = Date.now();
  assert.equal((await cps[2]!.apply(pod("after-failover", "node-c", loopbackAddress(), "echo"))).status, 200);
  await until("after-failover at node-a", async () => (await configDump(a)).workloads.some((w) => w.name === "after-failover"));
  const pushed = Date.now() - started;
  console.log(`a write after the fail-over reached node-a in ${pushed} ms`);
  assert.ok(pushed < 1000, `push after fail-over took ${pushed} ms`);
  const { ok, failed } = await load.stop();
  console.log(`during the fail-over: ${ok} connections through the mesh, ${failed.length} failed`);
  assert.deepEqual(failed, []);
  assert.ok(ok > 5, `only ${ok} connections went through`);
}, { timeout: 60_000 });

test("the killed replica restarts on the same store with the same VIPs, CA and objects", async () => {
  const vip = (p: any) => p.services.find((s: any) => s.hostname === "db.example.com").vips;
  const expected = await adminGet(cps[1]!, "/api/v1/dataplane");
  await cps[0]!.restart();
  const restarted = await adminGet(cps[0]!, "/api/v1/dataplane");
  assert.deepEqual(vip(restarted), vip(expected));
  assert.deepEqual(restarted.workloads, expected.workloads);
});

test("node credentials are one registry: a join token works once among all replicas; a revocation through one closes the node's stream at another and refuses its certificate at a third", async () => {
  const token = await cps[0]!.token("node-r");
  const caPem = fs.readFileSync(cps[0]!.rootCertFile, "utf8");
  const key = await createUriCertificateRequest(nodeUri("cluster.local", "node-r"));
  // Kept open until the end of the test: a Deno controlplane aborts inside nghttp2 when a client closes its
  // session right after a request (denoland/deno#36788), which is not what this tests.
  const anonymous = [1, 2].map((i) => new Http2Client(cps[i]!.url, { ca: caPem, checkServerIdentity: () => undefined }));
  const joins = await Promise.all(anonymous.map(async (c) => {
    const res = await c.request("POST", "/nodes/v1/join", { body: JSON.stringify({ csr: key.csrPem }), headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.text() };
  }));
  assert.deepEqual(joins.map((j) => j.status).sort(), [200, 401], JSON.stringify(joins));
  const joined = JSON.parse(joins.find((j) => j.status === 200)!.body) as { certChain: string[] };
  const tls = { ca: caPem, cert: joinPem(joined.certChain), key: key.key.privateKeyPem, checkServerIdentity: () => undefined };
  const stream = new DeltaXdsClient({ url: cps[0]!.url, tls, node: { id: "node-r", nodeName: "node-r" }, types: ALL_TYPE_URLS, apply: () => ({ failed: [] }) });
  void stream.run();
  try {
    await until("node-r streaming from replica 0", async () => stream.stats().connected && stream.stats().responses > 0);
    const revoked = await cps[2]!.admin.json<{ state: string }>("DELETE", "/api/v1/nodes/node-r/token", undefined, {
      authorization: `Bearer ${fs.readFileSync(`${cps[2]!.stateDir}/admin-token`, "utf8").trim()}`,
    });
    assert.equal(revoked.state, "revoked");
    await until("node-r's stream at replica 0 closed", async () => {
      const status = await adminGet(cps[0]!, "/api/v1/proxy-status");
      return !status.proxies.some((p: any) => p.node.nodeName === "node-r" && p.connected);
    }, 5_000);
    const renewer = new Http2Client(cps[1]!.url, tls);
    anonymous.push(renewer);
    const renewal = await renewer.request("POST", "/nodes/v1/renew", { body: JSON.stringify({ csr: key.csrPem }), headers: { "content-type": "application/json" } });
    assert.equal(renewal.status, 401, await renewal.text());
  } finally {
    stream.stop();
    for (const c of anonymous) c.close();
  }
});

test("a waypoint token issued by one replica is accepted by another, and revoked through a third", async () => {
  const gateway = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: wp, namespace: demo}\nspec: {gatewayClassName: istio-waypoint, listeners: [{name: mesh, port: 15008, protocol: HBONE}]}\n";
  assert.equal((await cps[0]!.apply(gateway)).status, 200);
  const admin = (i: number) => ({ authorization: `Bearer ${fs.readFileSync(`${cps[i]!.stateDir}/admin-token`, "utf8").trim()}` });
  // The replica issuing it must have seen the Gateway: writes resolve once the writer's own view has them.
  const { token } = await until("a waypoint token from replica 1", () => cps[1]!.admin.json<{ token: string }>("POST", "/api/v1/waypoints/demo/wp/token", {}, admin(1)));
  const caPem = fs.readFileSync(cps[0]!.rootCertFile, "utf8");
  const subscribe = () => new DeltaXdsClient({
    url: cps[2]!.url, tls: { ca: caPem, checkServerIdentity: () => undefined }, headers: { authorization: `Bearer ${token}` },
    node: { id: "wp-1", nodeName: "node-a", metadata: { role: "waypoint", waypoint: "demo/wp" } }, types: WAYPOINT_TYPE_URLS, apply: () => ({ failed: [] }),
  });
  const accepted = subscribe();
  void accepted.run();
  try {
    await until("the waypoint streaming from replica 2", async () => accepted.stats().connected && accepted.stats().responses > 0);
  } finally {
    accepted.stop();
  }
  await cps[0]!.admin.json("DELETE", "/api/v1/waypoints/demo/wp/token", undefined, admin(0));
  // The revocation reached replica 2 through the store: the same token is refused there.
  const client = new Http2Client(cps[2]!.url, { ca: caPem, checkServerIdentity: () => undefined });
  try {
    await until("the revoked token refused at replica 2", async () => {
      const res = await client.request("POST", "/xds/v1/delta", {
        body: JSON.stringify({ node: { id: "wp-1", nodeName: "node-a", metadata: { role: "waypoint", waypoint: "demo/wp" } }, typeUrl: WAYPOINT_TYPE_URLS[0] }),
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      });
      const text = res.status === 200 ? (res.stream.destroy(), "") : await res.text();
      return res.status === 401 && /revoked/.test(text);
    }, 5_000);
  } finally {
    client.close();
  }
});
