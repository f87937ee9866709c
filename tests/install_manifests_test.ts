// The install manifests as an operator renders them: `kubectl kustomize` (the
// real kubectl 1.32, offline) over each base in containers/kubernetes/, checked
// against what the code says — every kind the controlplane reads is granted
// and (for Istio's) defined, every image is one `npm run images` builds — and
// applied with the real kubectl to the fake API server of testing/ (no real one
// can run here), and `systemd-analyze verify` over the units in containers/systemd/ (in a scratch
// root holding stand-ins for the binaries).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { IMAGE_USER, IMAGES } from "../containers/images.ts";
import { KINDS } from "../config/kinds/mod.ts";
import { startKubeApiServer } from "../testing/kube_api_server.ts";
import { loopbackAddress, repoRoot, runCommand, test } from "../testing/mod.ts";

const bases = path.join(repoRoot, "containers", "kubernetes");
const version = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")).version as string;
type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec?: any; rules?: any[] };

async function render(base: string): Promise<Doc[]> {
  const r = await runCommand("kubectl", ["kustomize", path.join(bases, base)]);
  assert.equal(r.code, 0, r.stderr);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Doc);
}
const one = (docs: Doc[], kind: string, name?: string) => {
  const found = docs.filter((d) => d.kind === kind && (!name || d.metadata.name === name));
  assert.equal(found.length, 1, `${kind} ${name ?? ""}: ${found.length} found`);
  return found[0]!;
};
const plural = (kind: string) => kind.toLowerCase().replace(/([^aeiou])y$/, "$1ie") + "s";
const podSpecs = (docs: Doc[]) => docs.filter((d) => d.spec?.template?.spec).map((d) => [d, d.spec.template.spec] as const);

test("every base renders; each pod runs our images as the images' non-root user, with a readiness probe", async () => {
  const built = new Set(IMAGES.map((i) => `localhost/ambit/${i.name}:${version}`));
  for (const base of fs.readdirSync(bases)) {
    for (const [d, pod] of podSpecs(await render(base))) {
      assert.equal(pod.securityContext.runAsNonRoot, true, `${base}: ${d.kind} ${d.metadata.name}`);
      assert.equal(pod.securityContext.runAsUser, IMAGE_USER.uid);
      for (const c of pod.containers) {
        assert.ok(built.has(c.image), `${base}: ${c.image} is not an image npm run images builds`);
        assert.ok(c.readinessProbe?.httpGet, `${base}: ${c.name} has no readiness probe`);
        assert.equal(c.securityContext.allowPrivilegeEscalation, false);
      }
    }
  }
});

test("the controlplane's ClusterRole lists and watches every kind it translates; Istio's kinds have CRDs for each version Ambit accepts", async () => {
  const docs = await render("controlplane");
  const role = one(docs, "ClusterRole", "ambit-controlplane");
  const wanted = [...Object.values(KINDS).filter((k) => k.enforced || k.kind === "Namespace"), { kind: "Telemetry", group: "telemetry.istio.io" }, { kind: "GRPCRoute", group: "gateway.networking.k8s.io" }, { kind: "EndpointSlice", group: "discovery.k8s.io" }];
  for (const k of wanted) {
    const granted = role.rules!.some((r) => r.apiGroups.includes(k.group) && r.resources.includes(plural(k.kind)) && ["list", "watch"].every((v) => r.verbs.includes(v)));
    assert.ok(granted, `no list/watch on ${plural(k.kind)}.${k.group}`);
  }
  assert.ok(docs.some((d) => d.kind === "Role" && d.rules!.some((r) => r.resources.includes("leases"))), "no Lease access for the status writer");
  const crds = await render("crds");
  for (const k of Object.values(KINDS).filter((k) => k.enforced && k.group.endsWith("istio.io"))) {
    const crd = one(crds, "CustomResourceDefinition", `${plural(k.kind)}.${k.group}`);
    const served = crd.spec.versions.filter((v: any) => v.served).map((v: any) => `${k.group}/${v.name}`);
    for (const v of k.apiVersions) assert.ok(served.includes(v), `${crd.metadata.name} does not serve ${v}`);
    assert.equal(crd.spec.versions.filter((v: any) => v.storage).length, 1);
  }
  const service = one(docs, "Service", "ambit-controlplane");
  assert.deepEqual(service.spec.ports.map((p: any) => p.port), [15012]);
  assert.equal(one(docs, "Deployment", "ambit-controlplane").spec.replicas, 1);
});

test("the HA overlay runs three replicas on etcd with no volume claim; ztunnel is a host-network DaemonSet; the waypoint template serves HBONE", async () => {
  const ha = await render("controlplane-ha");
  const deployment = one(ha, "Deployment", "ambit-controlplane");
  assert.equal(deployment.spec.replicas, 3);
  const env = deployment.spec.template.spec.containers[0].env as { name: string; value: string }[];
  assert.match(env.find((e) => e.name === "AMBIT_STORE")!.value, /^etcd:\/\/[^/]+(,[^/,]+)*$/);
  assert.equal(ha.filter((d) => d.kind === "PersistentVolumeClaim").length, 0);
  const ztunnel = one(await render("ztunnel"), "DaemonSet", "ambit-ztunnel").spec.template.spec;
  assert.equal(ztunnel.hostNetwork, true);
  assert.equal(ztunnel.containers[0].readinessProbe.httpGet.port, 15021);
  const waypoint = await render("waypoint");
  assert.deepEqual(one(waypoint, "Service").spec.ports.map((p: any) => p.port), [15008]);
  assert.equal(one(waypoint, "Deployment").spec.template.metadata.labels["gateway.networking.k8s.io/gateway-name"], "waypoint");
});

test("kubectl applies the bases to an API server and reads them back (FAKED: testing/kube_api_server.ts, as no real one can run here)", async () => {
  const api = await startKubeApiServer(loopbackAddress());
  const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ambit-kubeconfig-")), "config");
  fs.writeFileSync(kubeconfig, api.kubeconfig());
  const kubectl = (args: string[]) => runCommand("kubectl", ["--kubeconfig", kubeconfig, ...args]);
  try {
    for (const base of ["crds", "controlplane", "ztunnel", "waypoint"]) {
      const r = await kubectl(["apply", "--validate=false", "-k", path.join(bases, base)]);
      assert.equal(r.code, 0, `${base}: ${r.stderr}`);
    }
    const got = await kubectl(["get", "deployments,daemonsets,services", "-n", "ambit-system", "-o", "name"]);
    assert.deepEqual(got.stdout.trim().split("\n").sort(), ["daemonset.apps/ambit-ztunnel", "deployment.apps/ambit-controlplane", "service/ambit-controlplane"]);
    assert.equal((await kubectl(["get", "clusterrole", "ambit-controlplane", "-o", "name"])).stdout.trim(), "clusterrole.rbac.authorization.k8s.io/ambit-controlplane");
    assert.equal(api.objects("CustomResourceDefinition").length, 6);
    // Applying again changes nothing.
    const again = await kubectl(["apply", "--validate=false", "-k", path.join(bases, "controlplane")]);
    assert.ok(again.stdout.trim().split("\n").every((l) => l.endsWith(" unchanged")), again.stdout);
  } finally {
    await api.close();
    fs.rmSync(path.dirname(kubeconfig), { recursive: true, force: true });
  }
});

test("systemd-analyze verify accepts each unit", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-units-"));
  try {
    const units = fs.readdirSync(path.join(repoRoot, "containers", "systemd"));
    fs.mkdirSync(path.join(root, "etc", "systemd", "system"), { recursive: true });
    fs.mkdirSync(path.join(root, "usr", "local", "bin"), { recursive: true });
    fs.cpSync("/lib/systemd/system", path.join(root, "usr", "lib", "systemd", "system"), { recursive: true, dereference: false, verbatimSymlinks: true });
    for (const u of units) fs.copyFileSync(path.join(repoRoot, "containers", "systemd", u), path.join(root, "etc", "systemd", "system", u));
    for (const service of ["ztunnel", "controlplane"]) fs.writeFileSync(path.join(root, "usr", "local", "bin", service), "#!/bin/sh\n", { mode: 0o755 });
    const r = await runCommand("systemd-analyze", ["verify", `--root=${root}`, ...units]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.trim(), "");
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
