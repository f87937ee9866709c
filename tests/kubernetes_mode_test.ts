// Kubernetes mode: `controlplane --kubeconfig` lists and watches a Kubernetes
// API and feeds its translation to real ztunnels. FAKED: the API server — none
// can be installed here (TEST_PEERS.md) — so this uses testing/kube_api_server.ts,
// a small server implementing what kubectl and @kubernetes/client-node use; every
// change below is made with the real kubectl 1.32 (apply, get, get --watch,
// patch, delete), and the controlplane reads it with client-node.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { startKubeApiServer } from "../testing/kube_api_server.ts";
import { kubectlFor } from "../testing/kubectl.ts";
import { ambientNamespaceYaml, podYaml, serviceYaml } from "../testing/kube_yaml.ts";
import { createUriCertificateRequest, nodeUri } from "../identity/mod.ts";
import { Http2Client } from "../runtime/mod.ts";
import {
  afterAll, loopbackAddress, repoRoot, runCommand, runtimeCommand, startProcess, startTestControlplane, startXdsMesh, type TestControlplane, type TestNode, test, testNode, waitReady,
} from "../testing/mod.ts";
import { until } from "../testing/until.ts";

const api = await startKubeApiServer(loopbackAddress());
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-kube-"));
const k = kubectlFor(api);
const { kubeconfig, run: kubectl, apply } = k;
const ip = { client: loopbackAddress(), echo: loopbackAddress() };

// Some config exists before the controlplane starts (the first list), some arrives after (the watch).
await apply(ambientNamespaceYaml("demo", ["client", "echo"]) + podYaml({ name: "client", node: "node-a", ip: ip.client, serviceAccount: "client" }));
const cp = await startTestControlplane(["--kubeconfig", kubeconfig, "--lease-duration", "2"]);
const mesh = await startXdsMesh(cp, ["node-a", "node-b"]);
const a = mesh.nodes["node-a"]!;
const others: TestControlplane[] = [];
afterAll(async () => {
  await mesh.stop();
  for (const c of [cp, ...others]) if (c.proc.child.exitCode === null) await c.kill();
  await api.close();
  fs.rmSync(dir, { recursive: true, force: true });
  k.cleanup();
});

type Workload = { name: string; canonicalRevision: string };
const workloads = async (node: TestNode) => ((await (await node.admin("/config_dump")).json()).workloads as Workload[]);
const hasWorkload = (node: TestNode, name: string) => workloads(node).then((ws) => ws.find((w) => w.name === name));

test("objects applied with kubectl reach the ztunnels within 1 s; kubectl get shows them", async () => {
  await until("client (listed at start) at node-a", () => hasWorkload(a, "client"));
  await apply(podYaml({ name: "echo", node: "node-b", ip: ip.echo, serviceAccount: "echo" }) + "---\n" + serviceYaml({ name: "echo" }));
  const started = Date.now(); // kubectl has returned: the objects are in the API server
  await Promise.all(Object.values(mesh.nodes).map((n) => until(`echo at ${n.name}`, () => hasWorkload(n, "echo"))));
  console.log(`kubectl apply → at both ztunnels in ${Date.now() - started} ms`);
  assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
  assert.match(await kubectl(["get", "pods", "-n", "demo"]), /^echo\s/m);
});

test("kubectl patch changes the workload; kubectl get --watch sees the same change", async () => {
  const watcher = startProcess("kubectl", ["--kubeconfig", kubeconfig, "get", "pods", "-n", "demo", "--watch", "-o", "jsonpath={.metadata.name}={.metadata.labels.version}{\"\\n\"}"]);
  try {
    await watcher.waitForLine(/^echo=$/, 10_000);
    await kubectl(["patch", "pod", "echo", "-n", "demo", "-p", '{"metadata":{"labels":{"version":"v2"}}}']);
    await watcher.waitForLine(/^echo=v2$/, 10_000);
    await until("echo at revision v2", async () => (await hasWorkload(a, "echo"))?.canonicalRevision === "v2");
  } finally {
    watcher.kill();
  }
});

test("a Pod deleted with kubectl disappears from the ztunnels", async () => {
  await apply(podYaml({ name: "short-lived", node: "node-b", ip: loopbackAddress(), serviceAccount: "echo" }));
  await until("short-lived at node-a", () => hasWorkload(a, "short-lived"));
  await kubectl(["delete", "pod", "short-lived", "-n", "demo"]);
  await until("short-lived gone from node-a", async () => !(await hasWorkload(a, "short-lived")));
});

test("after 410 Gone the controlplane lists again and loses nothing: what changed while it was away is there, what went away is gone", async () => {
  await apply(podYaml({ name: "doomed", node: "node-b", ip: loopbackAddress(), serviceAccount: "echo" }));
  await until("doomed at node-a", () => hasWorkload(a, "doomed"));
  const listsBefore = api.requests.filter((r) => /^GET \/api\/v1\/pods(\?(?!.*watch=true).*)?$/.test(r)).length;
  api.compact();
  await kubectl(["delete", "pod", "doomed", "-n", "demo"]);
  await apply(podYaml({ name: "newcomer", node: "node-b", ip: loopbackAddress(), serviceAccount: "echo" }));
  await until("newcomer at node-a", () => hasWorkload(a, "newcomer"));
  await until("doomed gone from node-a", async () => !(await hasWorkload(a, "doomed")));
  const lists = api.requests.filter((r) => /^GET \/api\/v1\/pods(\?(?!.*watch=true).*)?$/.test(r)).length;
  assert.ok(lists > listsBefore, `no relist of pods after 410 (requests: ${api.requests.slice(-10).join(", ")})`);
  assert.deepEqual((await workloads(a)).map((w) => w.name).sort(), ["client", "echo", "newcomer"]);
});

test("an object the intake would refuse is left out, and the rest keeps translating", async () => {
  await apply(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: broken, namespace: demo}
spec: {action: SOMETIMES, rules: "not a list"}
`);
  await cp.proc.waitForLine(/object refused: it does not validate.*AuthorizationPolicy demo\/broken/);
  await apply(podYaml({ name: "after-broken", node: "node-b", ip: loopbackAddress(), serviceAccount: "echo" }));
  await until("after-broken at node-a", () => hasWorkload(a, "after-broken"));
  await kubectl(["delete", "pod", "after-broken", "-n", "demo"]);
  await kubectl(["delete", "authorizationpolicy", "broken", "-n", "demo"]);
});

test("in Kubernetes mode the controlplane's own apply is refused (405): config belongs to the API server", async () => {
  const r = await cp.apply(serviceYaml({ name: "other" }));
  assert.equal(r.status, 405);
  assert.match(r.body.error, /kubectl apply/);
});

test("a ztunnel joins with its ServiceAccount token (TokenReview) as the node its pod is on; other tokens are refused", async () => {
  api.addToken("eyJ0.ztunnel-c.sig", { serviceAccount: "ambit-system/ambit-ztunnel", node: "node-c", audiences: ["ambit"] });
  api.addToken("eyJ0.workload.sig", { serviceAccount: "demo/client", node: "node-c", audiences: ["ambit"] });
  api.addToken("eyJ0.wrong-audience.sig", { serviceAccount: "ambit-system/ambit-ztunnel", node: "node-c", audiences: ["kubernetes"] });
  const tokenFile = path.join(dir, "sa-token");
  fs.writeFileSync(tokenFile, "eyJ0.ztunnel-c.sig\n");
  const address = loopbackAddress();
  const [cmd, args] = runtimeCommand("ztunnel/main.ts", ["--node", "node-c", "--address", address, "--controlplane", cp.url, "--join-token-file", tokenFile, "--controlplane-ca", cp.rootCertFile]);
  const c = testNode("node-c", address, startProcess(cmd, args));
  try {
    await waitReady(c);
    assert.ok(await hasWorkload(c, "echo"));
    const anonymous = new Http2Client(cp.url, { ca: fs.readFileSync(cp.rootCertFile, "utf8"), checkServerIdentity: () => undefined });
    const csr = (await createUriCertificateRequest(nodeUri("cluster.local", "node-c"))).csrPem;
    for (const token of ["eyJ0.workload.sig", "eyJ0.wrong-audience.sig", "eyJ0.unknown.sig", "not-a-jwt"]) {
      const res = await anonymous.request("POST", "/nodes/v1/join", { body: JSON.stringify({ csr }), headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } });
      assert.equal(res.status, 401, token);
      await res.text();
    }
    anonymous.close();
  } finally {
    c.proc.kill("SIGKILL");
    await c.proc.exited;
  }
});

test("a waypoint Gateway gets its Deployment and Service, owned by the Gateway, as the kustomize template has them", async () => {
  await apply(`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: demo}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
`);
  const got = await until("the waypoint Deployment", async () => (await runCommand("kubectl", ["--kubeconfig", kubeconfig, "get", "deployment", "waypoint", "-n", "demo", "-o", "json"])).stdout || undefined);
  const deployment = JSON.parse(got);
  const gateway = api.objects("Gateway").find((g) => g.metadata.name === "waypoint")!;
  assert.deepEqual(deployment.metadata.ownerReferences.map((o: any) => [o.kind, o.uid]), [["Gateway", gateway.metadata.uid]]);
  const template = parseAllDocuments((await runCommand("kubectl", ["kustomize", path.join(repoRoot, "containers", "kubernetes", "waypoint")])).stdout).map((d) => d.toJS());
  const fromTemplate = template.find((d: any) => d.kind === "Deployment");
  assert.deepEqual({ ...deployment.spec.template.spec, containers: deployment.spec.template.spec.containers.map((c: any) => ({ ...c, image: "" })) },
    { ...fromTemplate.spec.template.spec, containers: fromTemplate.spec.template.spec.containers.map((c: any) => ({ ...c, image: "" })) });
  assert.ok(api.objects("Service").some((o) => o.metadata.name === "waypoint" && o.metadata.namespace === "demo"));
});

const policy = (name: string) => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ${name}, namespace: demo}
spec:
  selector: {matchLabels: {app: echo}}
  rules: [{from: [{source: {principals: [cluster.local/ns/demo/sa/client]}}]}]
`;
/** Who wrote status to `name` (the fieldManager of each status PATCH), once its conditions are in the API server. */
async function statusWriters(name: string): Promise<string[]> {
  await until(`status of ${name}`, async () => api.objects("AuthorizationPolicy").find((o) => o.metadata.name === name && (o as any).status?.conditions?.length));
  return api.requests.filter((r) => r.includes(`/authorizationpolicies/${name}/status`)).map((r) => new URL(r.split(" ")[1]!, "http://x").searchParams.get("fieldManager")!);
}
const leaseHolder = () => (api.objects("Lease")[0] as any)?.spec?.holderIdentity as string | undefined;

test("status is written back by the Lease holder only; when it dies another replica takes the Lease and writes", async () => {
  const holder = await until("a Lease holder", async () => leaseHolder());
  const second = await startTestControlplane(["--kubeconfig", kubeconfig, "--lease-duration", "2"]);
  others.push(second);
  await apply(policy("allow-client"));
  // One write, by the holder: the next translation finds the API server already in line.
  assert.deepEqual(await statusWriters("allow-client"), [holder]);
  const conditions = (api.objects("AuthorizationPolicy").find((o) => o.metadata.name === "allow-client") as any).status.conditions;
  assert.ok(conditions.every((c: any) => c.type && c.status && c.lastTransitionTime), JSON.stringify(conditions));
  assert.equal(leaseHolder(), holder);
  // The holder dies without letting go: after the lease duration the other replica takes over.
  await cp.kill("SIGKILL");
  const next = await until("another Lease holder", async () => (leaseHolder() !== holder ? leaseHolder() : undefined), 10_000);
  await apply(policy("allow-client-2"));
  assert.deepEqual([...new Set(await statusWriters("allow-client-2"))], [next]);
}, { timeout: 60_000 });
