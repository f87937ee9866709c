// `ambit waypoint` against a real controlplane over TLS, istioctl-style: generate
// prints the Gateway, apply writes it (and labels the namespace), list and status
// show it, token create gives the credential a real waypoint process connects
// with (after which --wait returns and status says connected), delete removes it.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { parse } from "yaml";
import { afterAll, loopbackAddress, runtimeCommand, startProcess, startTestControlplane, test, type TestProcess } from "../testing/mod.ts";

const cp = await startTestControlplane();
const ambit = (args: string[], input?: string) => cp.cli(args, { input });
let waypoint: TestProcess | undefined;
afterAll(async () => {
  waypoint?.kill("SIGKILL");
  await waypoint?.exited;
  await cp.kill();
});
assert.equal((await cp.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: demo, labels: {istio.io/dataplane-mode: ambient}}\n")).status, 200);

test("waypoint generate prints the Gateway istioctl would write, and applies nothing", async () => {
  const r = await ambit(["waypoint", "generate", "-n", "demo", "--name", "wp", "--for", "all"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(parse(r.stdout), {
    apiVersion: "gateway.networking.k8s.io/v1", kind: "Gateway",
    metadata: { name: "wp", namespace: "demo", labels: { "istio.io/waypoint-for": "all" } },
    spec: { gatewayClassName: "istio-waypoint", listeners: [{ name: "mesh", port: 15008, protocol: "HBONE" }] },
  });
  assert.notEqual((await ambit(["get", "gateway", "wp", "-n", "demo"])).code, 0);
  assert.equal((await ambit(["waypoint", "generate", "--for", "everything"])).code, 2);
});

test("waypoint apply --enroll-namespace writes the Gateway and labels the namespace, keeping its labels", async () => {
  const r = await ambit(["waypoint", "apply", "-n", "demo", "--enroll-namespace"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Gateway demo\/waypoint created$/m);
  assert.match(r.stdout, /namespace demo labeled with "istio.io\/use-waypoint=waypoint"/);
  const ns = JSON.parse((await ambit(["get", "namespace", "demo", "-o", "json"])).stdout);
  assert.deepEqual(ns.metadata.labels, { "istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "waypoint" });
});

test("waypoint list and status: the waypoint, not connected yet (status exits 1)", async () => {
  const list = await ambit(["waypoint", "list", "-n", "demo"]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^NAMESPACE\s+NAME\s+FOR\s+SERVICES\s+CONNECTED\s*$/m);
  assert.match(list.stdout, /^demo\s+waypoint\s+service\s+0\s+False\s*$/m);
  assert.match((await ambit(["waypoint", "list", "-n", "other"])).stdout, /No waypoints found in namespace other/);
  const status = await ambit(["waypoint", "status", "-n", "demo"]);
  assert.equal(status.code, 1);
  assert.match(status.stdout, /identity:\s+spiffe:\/\/cluster\.local\/ns\/demo\/sa\/waypoint/);
  assert.match(status.stdout, /connected:\s+no/);
});

test("waypoint token create: a real waypoint process connects with it; apply --wait returns; status and list say connected", async () => {
  const created = await ambit(["waypoint", "token", "create", "-n", "demo"]);
  assert.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();
  assert.match(token, /^ambitwaypoint\.demo\.waypoint\./);
  const [cmd, args] = runtimeCommand("waypoint/main.ts", [
    "--gateway", "demo/waypoint", "--address", loopbackAddress(), "--controlplane", cp.url, "--controlplane-ca", cp.rootCertFile, "--token", token,
  ]);
  waypoint = startProcess(cmd, args);
  const wait = await ambit(["waypoint", "apply", "-n", "demo", "--wait", "--timeout", "30"]);
  assert.equal(wait.code, 0, wait.stderr + wait.stdout);
  assert.match(wait.stdout, /waypoint demo\/waypoint is ready/);
  const status = await ambit(["waypoint", "status", "-n", "demo", "--name", "waypoint", "-o", "json"]);
  assert.equal(status.code, 0, status.stdout);
  assert.deepEqual(JSON.parse(status.stdout).map((w: { connected: boolean; token: string }) => [w.connected, w.token]), [[true, "active"]]);
  assert.match((await ambit(["waypoint", "list", "-A"])).stdout, /^demo\s+waypoint\s+service\s+0\s+True\s*$/m);
  // proxy-status covers the waypoint's stream.
  const proxies = JSON.parse((await ambit(["proxy-status", "-o", "json"])).stdout) as { node: { metadata?: Record<string, string> } }[];
  assert.ok(proxies.some((p) => p.node.metadata?.waypoint === "demo/waypoint"), JSON.stringify(proxies));
}, { timeout: 60_000 });

test("waypoint config: the routes the waypoint gets, in the order it tries them", async () => {
  // The waypoint needs an address to be bound: an instance registered for it, as ambit dev does.
  const yaml = `
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: waypoint-1, namespace: demo, labels: {gateway.networking.k8s.io/gateway-name: waypoint, ambit.dev/node: node-a}}
spec: {address: 10.9.9.9, serviceAccount: waypoint}
---
apiVersion: v1
kind: Service
metadata: {name: hello, namespace: demo}
spec: {selector: {app: hello}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: hello-v2, namespace: demo, labels: {istio.io/use-waypoint: none}}
spec: {selector: {app: hello, version: v2}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: hello, namespace: demo}
spec:
  parentRefs: [{group: "", kind: Service, name: hello}]
  rules:
  - backendRefs: [{name: hello, port: 80, weight: 90}, {name: hello-v2, port: 80, weight: 10}]
  - matches: [{path: {type: Exact, value: /v2}}]
    backendRefs: [{name: hello-v2, port: 80}]
`;
  assert.equal((await ambit(["apply", "-f", "-"], yaml)).code, 0);
  const r = await ambit(["waypoint", "config", "-n", "demo"]);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.split("\n").filter((l) => l.startsWith("demo/hello."));
  assert.equal(rows.length, 2, r.stdout);
  assert.match(rows[0]!, /^demo\/hello\.demo\.svc\.cluster\.local\s+0\s+Exact \/v2\s+HTTPRoute demo\/hello#1\s+demo\/hello-v2\.demo\.svc\.cluster\.local:80 \(1\)/);
  assert.match(rows[1]!, /^demo\/hello\.demo\.svc\.cluster\.local\s+1\s+PathPrefix \/\s+HTTPRoute demo\/hello#0\s+.*hello\.demo\.svc\.cluster\.local:80 \(90\), .*hello-v2.*:80 \(10\)/);
  // The route's status, as kubectl shows it.
  const shown = parse((await ambit(["get", "httproute", "hello", "-n", "demo", "-o", "yaml"])).stdout);
  assert.deepEqual(shown.status.parents.map((p: { parentRef: unknown; conditions: { type: string; reason: string }[] }) => [p.parentRef, p.conditions.map((c) => `${c.type}=${c.reason}`)]), [
    [{ group: "", kind: "Service", namespace: "demo", name: "hello" }, ["Accepted=Accepted", "ResolvedRefs=ResolvedRefs"]],
  ]);
  const dump = JSON.parse((await ambit(["waypoint", "config", "-n", "demo", "-o", "json"])).stdout);
  assert.deepEqual(dump.services.map((s: { name: string }) => s.name).sort(), ["hello", "hello-v2"]);
});

test("waypoint token revoke, then delete: the Gateway is gone; deleting again exits 1", async () => {
  const revoked = await ambit(["waypoint", "token", "revoke", "-n", "demo"]);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.match(revoked.stdout, /token revoked/);
  const del = await ambit(["waypoint", "delete", "-n", "demo", "waypoint"]);
  assert.equal(del.code, 0, del.stderr);
  assert.match(del.stdout, /^Gateway demo\/waypoint deleted$/m);
  assert.match((await ambit(["waypoint", "list", "-n", "demo"])).stdout, /No waypoints found/);
  assert.equal((await ambit(["waypoint", "delete", "-n", "demo", "waypoint"])).code, 1);
});
