// The controlplane side of waypoints, as a waypoint process and a ztunnel see it
// over the real TLS listener: per-proxy xDS views (a waypoint gets only what it
// serves, a ztunnel never any L7 config, an unrelated change pushes a waypoint
// nothing), waypoint tokens, and the CA giving a waypoint its own identity only.
// The "waypoint" and "ztunnel" here are xDS clients, not the processes: what is
// under test is what the controlplane sends them and what it refuses.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { createCertificateRequest, createUriCertificateRequest, joinPem, nodeUri, spiffeId } from "../identity/mod.ts";
import { Http2Client } from "../runtime/mod.ts";
import { DeltaXdsClient } from "../xds/client.ts";
import { ALL_TYPE_URLS, SERVICE_ROUTES_TYPE_URL, TYPE_URLS, type TypeUrl, WAYPOINT_TYPE_URLS } from "../xds/protocol.ts";
import type { Workload } from "../xds/resources.ts";
import type { ServiceRoutes } from "../xds/waypoint_resources.ts";
import { afterAll, loopbackAddress, startTestControlplane, test } from "../testing/mod.ts";
import { waypointYaml } from "../testing/kube_yaml.ts";

const ip = { wp: loopbackAddress(), v1: loopbackAddress(), v2: loopbackAddress(), other: loopbackAddress() };
const meshYaml = (weights: [number, number]) => `
apiVersion: v1
kind: Namespace
metadata: {name: demo, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Namespace
metadata: {name: elsewhere, labels: {istio.io/dataplane-mode: ambient}}
---
${waypointYaml({ name: "wp", address: ip.wp, node: "node-a" })}apiVersion: v1
kind: Service
metadata: {name: hello, namespace: demo, labels: {istio.io/use-waypoint: wp}}
spec: {selector: {app: hello}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: hello-v1, namespace: demo}
spec: {selector: {app: hello, version: v1}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: hello-v2, namespace: demo}
spec: {selector: {app: hello, version: v2}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: hello-v1, namespace: demo, labels: {app: hello, version: v1, ambit.dev/node: node-a}}
spec: {address: ${ip.v1}, serviceAccount: hello}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: hello-v2, namespace: demo, labels: {app: hello, version: v2, ambit.dev/node: node-a}}
spec: {address: ${ip.v2}, serviceAccount: hello}
---
apiVersion: v1
kind: Service
metadata: {name: other, namespace: elsewhere}
spec: {selector: {app: other}, ports: [{name: http, port: 80}]}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: other, namespace: elsewhere, labels: {app: other, ambit.dev/node: node-a}}
spec: {address: ${ip.other}, serviceAccount: other}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: split, namespace: demo}
spec:
  parentRefs: [{group: "", kind: Service, name: hello}]
  rules:
  - matches: [{headers: [{name: x-canary, value: "true"}]}]
    backendRefs: [{name: hello-v2, port: 80}]
  - backendRefs: [{name: hello-v1, port: 80, weight: ${weights[0]}}, {name: hello-v2, port: 80, weight: ${weights[1]}}]
`;

const cp = await startTestControlplane();
assert.equal((await cp.apply(meshYaml([90, 10]))).status, 200);
const caPem = fs.readFileSync(cp.rootCertFile, "utf8");
const adminToken = fs.readFileSync(`${cp.stateDir}/admin-token`, "utf8").trim();
const admin = <T>(method: string, path: string, body?: unknown) => cp.admin.json<T>(method, path, body, { authorization: `Bearer ${adminToken}` });
const clients: { stop(): void }[] = [];
afterAll(async () => {
  for (const c of clients) c.stop();
  await cp.kill();
});

async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function subscribe(node: ConstructorParameters<typeof DeltaXdsClient>[0]["node"], types: readonly TypeUrl[], auth: { headers?: Record<string, string>; cert?: string; key?: string }) {
  const held = new Map<TypeUrl, Map<string, unknown>>(types.map((t) => [t, new Map()]));
  const client = new DeltaXdsClient({
    url: cp.url, node, types,
    tls: { ca: caPem, cert: auth.cert, key: auth.key, checkServerIdentity: () => undefined },
    ...(auth.headers ? { headers: auth.headers } : {}),
    apply: (type, resources, removed) => {
      for (const r of resources) held.get(type)!.set(r.name, r.resource);
      for (const n of removed) held.get(type)!.delete(n);
      return { failed: [] };
    },
  });
  clients.push(client);
  void client.run();
  return { client, held };
}

const waypointToken = (await admin<{ token: string }>("POST", "/api/v1/waypoints/demo/wp/token")).token;
const waypointNode = { id: "wp-1", nodeName: "node-a", metadata: { role: "waypoint", waypoint: "demo/wp" } };
const waypoint = subscribe(waypointNode, WAYPOINT_TYPE_URLS, { headers: { authorization: `Bearer ${waypointToken}` } });

// A ztunnel's credentials: a node certificate from a join token. It asks for the L7 type too, and must get none.
const joinToken = await cp.token("node-a");
const nodeKey = await createUriCertificateRequest(nodeUri("cluster.local", "node-a"));
const anon = new Http2Client(cp.url, { ca: caPem, checkServerIdentity: () => undefined });
const joined = await anon.json<{ certChain: string[] }>("POST", "/nodes/v1/join", { csr: nodeKey.csrPem }, { authorization: `Bearer ${joinToken}` });
// Kept open until the end: a Deno controlplane aborts inside nghttp2 when a client closes its session
// right after a request (denoland/deno#36788), which is not what this file tests.
clients.push({ stop: () => anon.close() });
const nodeTls = { cert: joinPem(joined.certChain), key: nodeKey.key.privateKeyPem };
const ztunnel = subscribe({ id: "zt-a", nodeName: "node-a" }, [...ALL_TYPE_URLS, SERVICE_ROUTES_TYPE_URL], nodeTls);

const names = (held: Map<TypeUrl, Map<string, unknown>>, t: TypeUrl) => [...held.get(t)!.keys()].sort();
const helloKey = "demo/hello.demo.svc.cluster.local";

test("a waypoint's stream receives only its Service's ServiceRoutes, the Services its routes reach, their endpoints, and other workloads as caller metadata", async () => {
  await until("waypoint synced", () => waypoint.client.synced);
  assert.deepEqual(names(waypoint.held, SERVICE_ROUTES_TYPE_URL), [helloKey]);
  assert.deepEqual(names(waypoint.held, TYPE_URLS.service), ["demo/hello-v1.demo.svc.cluster.local", "demo/hello-v2.demo.svc.cluster.local", helloKey]);
  const entry = (n: string) => `Kubernetes/networking.istio.io/WorkloadEntry/${n}`;
  assert.deepEqual(names(waypoint.held, TYPE_URLS.workload), ["demo/hello-v1", "demo/hello-v2", "demo/wp-1", "elsewhere/other"].map(entry));
  // Endpoints whole; a caller only as its metrics name it (controlplane/waypoint_callers.ts).
  const workload = (n: string) => waypoint.held.get(TYPE_URLS.workload)!.get(entry(n)) as Workload;
  assert.deepEqual(Object.keys(workload("demo/hello-v1").services).sort(), ["demo/hello-v1.demo.svc.cluster.local", helloKey].sort());
  const other = workload("elsewhere/other");
  assert.deepEqual([other.name, other.namespace, other.serviceAccount, other.addresses], ["other", "elsewhere", "other", [ip.other]]);
  assert.deepEqual([other.services, other.node, other.authorizationPolicies], [{}, "", []]);
  const routes = waypoint.held.get(SERVICE_ROUTES_TYPE_URL)!.get(helloKey) as ServiceRoutes;
  assert.equal(routes.waypoint, "demo/wp");
  assert.deepEqual(routes.routes.map((r) => r.match.headers.map((h) => h.name)), [["x-canary"], []]);
  assert.deepEqual(routes.rules[1]!.backends.map((b) => b.weight), [90, 10]);
});

test("a ztunnel's stream never receives L7 config, even when it asks for the type; it gets the waypoint as a native-tunnel workload", async () => {
  await until("ztunnel synced", () => ztunnel.client.synced);
  assert.deepEqual(names(ztunnel.held, SERVICE_ROUTES_TYPE_URL), []);
  assert.ok(ztunnel.client.received.every((r) => r.typeUrl !== SERVICE_ROUTES_TYPE_URL || r.resources.length === 0));
  const wp = ztunnel.held.get(TYPE_URLS.workload)!.get("Kubernetes/networking.istio.io/WorkloadEntry/demo/wp-1") as { nativeTunnel?: boolean } | undefined;
  assert.equal(wp?.nativeTunnel, true, names(ztunnel.held, TYPE_URLS.workload).join(" "));
  const hello = ztunnel.held.get(TYPE_URLS.service)!.get(helloKey) as { waypoint?: { identity?: string } };
  assert.equal(hello.waypoint?.identity, "spiffe://cluster.local/ns/demo/sa/wp");
});

type ProxyStatus = { proxies: { node: { id: string }; types: { typeUrl: string; lastSentNonce?: string }[] }[] };
const lastSent = async (id: string) => {
  const { proxies } = await admin<ProxyStatus>("GET", "/api/v1/proxy-status");
  return proxies.filter((p) => p.node.id === id).flatMap((p) => p.types.map((t) => `${t.typeUrl}=${t.lastSentNonce}`)).sort().join(" ");
};

test("an unrelated change pushes nothing to the waypoint; a change to its route pushes exactly that ServiceRoutes", async () => {
  await until("both synced", () => waypoint.client.synced && ztunnel.client.synced);
  const before = await lastSent("wp-1");
  const responses = waypoint.client.stats().responses;
  assert.equal((await cp.apply(`
apiVersion: v1
kind: Service
metadata: {name: unrelated, namespace: elsewhere}
spec: {selector: {app: other}, ports: [{name: http, port: 81}]}
`)).status, 200);
  // The server pushes to every stream in one pass: once the ztunnel has the new Service, the waypoint's turn is over.
  await until("ztunnel sees the unrelated Service", () => ztunnel.held.get(TYPE_URLS.service)!.has("elsewhere/unrelated.elsewhere.svc.cluster.local"));
  assert.equal(await lastSent("wp-1"), before);
  assert.equal(waypoint.client.stats().responses, responses);

  assert.equal((await cp.apply(meshYaml([50, 50]))).status, 200);
  await until("the waypoint gets the 50/50 split", () => {
    const r = waypoint.held.get(SERVICE_ROUTES_TYPE_URL)!.get(helloKey) as ServiceRoutes | undefined;
    return r?.rules[1]!.backends[0]!.weight === 50;
  });
  const pushed = waypoint.client.received.slice(-1)[0]!;
  assert.deepEqual([pushed.typeUrl, pushed.resources.map((r) => r.name)], [SERVICE_ROUTES_TYPE_URL, [helloKey]]);
});

test("xDS: a waypoint token subscribes only as its own waypoint; a node certificate and the admin token cannot subscribe as a waypoint", async () => {
  const open = async (node: unknown, headers: Record<string, string>, tls: { cert?: string; key?: string } = {}) => {
    const c = new Http2Client(cp.url, { ca: caPem, checkServerIdentity: () => undefined, ...tls });
    try {
      const res = await c.request("POST", "/xds/v1/delta", { body: JSON.stringify({ node, subscriptions: { [SERVICE_ROUTES_TYPE_URL]: {} } }), headers: { "content-type": "application/json", ...headers } });
      const status = res.status;
      res.stream.destroy();
      return status;
    } finally {
      c.close();
    }
  };
  const bearer = { authorization: `Bearer ${waypointToken}` };
  assert.equal(await open({ id: "x", nodeName: "node-a", metadata: { role: "waypoint", waypoint: "demo/other-wp" } }, bearer), 403);
  assert.equal(await open({ id: "x", nodeName: "node-a" }, bearer), 403);
  assert.equal(await open(waypointNode, {}, nodeTls), 403);
  assert.equal(await open(waypointNode, { authorization: `Bearer ${adminToken}` }), 403);
  // Nor may a waypoint token use the admin API.
  const c = new Http2Client(cp.url, { ca: caPem, checkServerIdentity: () => undefined });
  const res = await c.request("GET", "/api/v1/objects", { headers: bearer });
  assert.equal(res.status, 403);
  c.close();
});

test("the CA gives a waypoint its own identity and refuses any other; a revoked token gets nothing", async () => {
  const c = new Http2Client(cp.url, { ca: caPem, checkServerIdentity: () => undefined });
  const bearer = { authorization: `Bearer ${waypointToken}` };
  const own = await createCertificateRequest(spiffeId("cluster.local", "demo", "wp"));
  const issued = await c.json<{ certChain: string[] }>("POST", "/ca/v1/certificates", { csr: own.csrPem, waypoint: "demo/wp" }, bearer);
  assert.ok(issued.certChain.length >= 2);
  for (const [ns, sa] of [["demo", "hello"], ["demo", "wp-2"], ["elsewhere", "wp"]] as const) {
    const other = await createCertificateRequest(spiffeId("cluster.local", ns, sa));
    // Naming another waypoint in the body changes nothing: the token decides who is asking.
    await assert.rejects(
      c.json("POST", "/ca/v1/certificates", { csr: other.csrPem, waypoint: `${ns}/${sa}` }, bearer),
      new RegExp(`403 .*waypoint demo/wp may hold only spiffe://cluster\\.local/ns/demo/sa/wp, not spiffe://cluster\\.local/ns/${ns}/sa/${sa}`),
    );
  }
  // A node may not obtain the waypoint's identity either, though the waypoint's instance runs on it.
  const asNode = new Http2Client(cp.url, { ca: caPem, checkServerIdentity: () => undefined, ...nodeTls });
  await assert.rejects(asNode.json("POST", "/ca/v1/certificates", { csr: own.csrPem }), /403/);
  asNode.close();
  await admin("DELETE", "/api/v1/waypoints/demo/wp/token");
  await assert.rejects(c.json("POST", "/ca/v1/certificates", { csr: own.csrPem }, bearer), /401/);
  c.close();
  const { tokens } = await admin<{ tokens: { waypoint: string; state: string }[] }>("GET", "/api/v1/waypoint-tokens");
  assert.deepEqual(tokens.map((t) => [t.waypoint, t.state]), [["demo/wp", "revoked"]]);
});

test("route status: Accepted and ResolvedRefs on status.parents, as the config API serves the HTTPRoute", async () => {
  const route = await admin<{ status: { parents: { parentRef: unknown; conditions: { type: string; status: string; reason: string }[] }[] } }>(
    "GET", "/api/v1/objects/HTTPRoute/demo/split",
  );
  assert.deepEqual(route.status.parents.map((p) => [p.parentRef, p.conditions.map((c) => [c.type, c.status, c.reason])]), [
    [{ group: "", kind: "Service", namespace: "demo", name: "hello" }, [["Accepted", "True", "Accepted"], ["ResolvedRefs", "True", "ResolvedRefs"]]],
  ]);
});
