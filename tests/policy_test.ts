// L4 AuthorizationPolicy and PeerAuthentication end to end: each policy below is
// written as istio.io's security tasks write it, applied unchanged through the
// controlplane, and followed by real connections through two ztunnels whose
// outcome is asserted — and compared with the ztunnel's explain endpoint.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { afterAll, loopbackAddress, socksConnect, startTestControlplane, startXdsMesh, test } from "../testing/mod.ts";

const ip = { sleep: loopbackAddress(), curl: loopbackAddress(), other: loopbackAddress(), httpbin: loopbackAddress() };
const PORTS = [8000, 9000];
const servers = PORTS.map((port) => {
  const s = net.createServer({ allowHalfOpen: true }, (c) => c.pipe(c));
  s.listen(port, ip.httpbin);
  return s;
});

const pod = (name: string, ns: string, sa: string, node: string, podIP: string, labels = `{app: ${name}}`) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: ${labels}}
spec: {nodeName: ${node}, serviceAccountName: ${sa}, containers: [{name: c, image: c}]}
status: {phase: Running, podIP: ${podIP}}`;
const base = [
  "apiVersion: v1\nkind: Namespace\nmetadata: {name: foo, labels: {istio.io/dataplane-mode: ambient}}",
  "apiVersion: v1\nkind: Namespace\nmetadata: {name: bar, labels: {istio.io/dataplane-mode: ambient}}",
  "apiVersion: v1\nkind: Namespace\nmetadata: {name: istio-system}",
  pod("sleep", "foo", "sleep", "node-a", ip.sleep),
  pod("curl", "foo", "curl", "node-a", ip.curl),
  pod("other", "bar", "other", "node-a", ip.other),
  pod("httpbin", "foo", "httpbin", "node-b", ip.httpbin),
].join("\n---\n");

const cp = await startTestControlplane();
assert.equal((await cp.apply(base)).status, 200);
const mesh = await startXdsMesh(cp, ["node-a", "node-b"]);
const b = mesh.nodes["node-b"]!;
afterAll(async () => {
  await mesh.stop();
  await cp.kill();
  for (const s of servers) s.close();
});

type Client = "sleep" | "curl" | "other";
const principal = (c: Client) => `spiffe://cluster.local/ns/${c === "other" ? "bar" : "foo"}/sa/${c}`;

/** Connects from a client workload to httpbin:port through the mesh; true when bytes echo back. */
async function reach(client: Client, port: number): Promise<boolean> {
  const r = await socksConnect({ address: ip[client], port: 15080 }, ip.httpbin, port);
  if (!r.ok) return false;
  return await new Promise<boolean>((resolve) => {
    let got = "";
    r.socket.on("data", (d: Buffer) => (got += d));
    r.socket.on("close", () => resolve(got === "ping"));
    r.socket.on("error", () => resolve(false));
    r.socket.end("ping");
  });
}

async function explain(client: Client, port: number): Promise<boolean> {
  const q = new URLSearchParams({ source: principal(client), sourceIp: ip[client], destination: ip.httpbin, port: String(port) });
  const r = await (await b.admin(`/debug/authorize?${q}`)).json();
  return r.decision.allowed;
}

const policies = async () => ((await (await b.admin("/config_dump")).json()).policies as { namespace: string; name: string }[]);

/** Applies YAML and waits until node-b holds exactly `sent` policies from it. */
async function applyAndWait(yaml: string, sent: number): Promise<void> {
  const res = await cp.apply(yaml);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  // The controlplane translates before the apply returns: what it will send is settled now, so a row
  // expecting nothing sent (AUDIT, CUSTOM, targetRefs) cannot pass by racing a late push.
  const token = fs.readFileSync(path.join(cp.stateDir, "admin-token"), "utf8").trim();
  const translated = (await cp.admin.json<{ policies: { name: string }[] }>("GET", "/api/v1/dataplane", undefined, { authorization: `Bearer ${token}` }))
    .policies.filter((p) => p.name !== "istio_converted_static_strict");
  assert.equal(translated.length, sent, `the controlplane translated ${JSON.stringify(translated.map((p) => p.name))}`);
  const deadline = Date.now() + 10_000;
  while ((await policies()).filter((p) => p.name !== "istio_converted_static_strict").length !== sent) {
    assert.ok(Date.now() < deadline, `node-b never got ${sent} policies: ${JSON.stringify(await policies())}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const meta = (name: string, ns = "foo", extra = "") => `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ${name}, namespace: ${ns}${extra}}`;
const ALL: [Client, number][] = [["sleep", 8000], ["sleep", 9000], ["curl", 8000], ["curl", 9000], ["other", 8000], ["other", 9000]];

interface Row {
  readonly name: string;
  readonly yaml: string;
  /** How many Authorizations the controlplane sends for it. */
  readonly sent: number;
  /** The probes that must connect; every other probe in ALL must be refused. */
  readonly allowed: readonly (readonly [Client, number])[];
}
const everyone = ALL;
const rows: Row[] = [
  { name: "deny-all: ALLOW with spec {}", yaml: `${meta("allow-nothing")}\nspec: {}`, sent: 1, allowed: [] },
  { name: "allow-nothing: action ALLOW and no rules", yaml: `${meta("allow-nothing")}\nspec:\n  action: ALLOW`, sent: 1, allowed: [] },
  { name: "allow-all: one empty rule", yaml: `${meta("allow-all")}\nspec:\n  rules:\n  - {}`, sent: 1, allowed: everyone },
  { name: "deny-all: DENY with an empty rule", yaml: `${meta("deny-all")}\nspec:\n  action: DENY\n  rules:\n  - {}`, sent: 1, allowed: [] },
  { name: "allow by namespace", yaml: `${meta("ns")}\nspec:\n  action: ALLOW\n  rules:\n  - from:\n    - source:\n        namespaces: ["foo"]`, sent: 1, allowed: [["sleep", 8000], ["sleep", 9000], ["curl", 8000], ["curl", 9000]] },
  { name: "allow by principal", yaml: `${meta("p")}\nspec:\n  rules:\n  - from:\n    - source:\n        principals: ["cluster.local/ns/foo/sa/sleep"]`, sent: 1, allowed: [["sleep", 8000], ["sleep", 9000]] },
  { name: "DENY notPrincipals", yaml: `${meta("np")}\nspec:\n  action: DENY\n  rules:\n  - from:\n    - source:\n        notPrincipals: ["cluster.local/ns/foo/sa/sleep"]`, sent: 1, allowed: [["sleep", 8000], ["sleep", 9000]] },
  { name: "allow by service account", yaml: `${meta("sa")}\nspec:\n  rules:\n  - from:\n    - source:\n        serviceAccounts: ["foo/curl"]`, sent: 1, allowed: [["curl", 8000], ["curl", 9000]] },
  { name: "allow by ipBlocks", yaml: `${meta("ip")}\nspec:\n  rules:\n  - from:\n    - source:\n        ipBlocks: ["${ip.sleep}"]`, sent: 1, allowed: [["sleep", 8000], ["sleep", 9000]] },
  { name: "DENY notIpBlocks", yaml: `${meta("notip")}\nspec:\n  action: DENY\n  rules:\n  - from:\n    - source:\n        notIpBlocks: ["${ip.curl}/32"]`, sent: 1, allowed: [["curl", 8000], ["curl", 9000]] },
  { name: "allow by ports", yaml: `${meta("ports")}\nspec:\n  rules:\n  - to:\n    - operation:\n        ports: ["8000"]`, sent: 1, allowed: [["sleep", 8000], ["curl", 8000], ["other", 8000]] },
  { name: "DENY notPorts", yaml: `${meta("notports")}\nspec:\n  action: DENY\n  rules:\n  - to:\n    - operation:\n        notPorts: ["8000"]`, sent: 1, allowed: [["sleep", 8000], ["curl", 8000], ["other", 8000]] },
  { name: "when source.principal", yaml: `${meta("when-p")}\nspec:\n  rules:\n  - when:\n    - key: source.principal\n      values: ["cluster.local/ns/foo/sa/curl"]`, sent: 1, allowed: [["curl", 8000], ["curl", 9000]] },
  { name: "DENY when destination.port", yaml: `${meta("when-port")}\nspec:\n  action: DENY\n  rules:\n  - when:\n    - key: destination.port\n      values: ["9000"]`, sent: 1, allowed: [["sleep", 8000], ["curl", 8000], ["other", 8000]] },
  {
    name: "DENY beside ALLOW: DENY wins",
    yaml: `${meta("allow-foo")}\nspec:\n  rules:\n  - from:\n    - source:\n        namespaces: ["foo"]\n---\n${meta("deny-curl")}\nspec:\n  action: DENY\n  rules:\n  - from:\n    - source:\n        principals: ["cluster.local/ns/foo/sa/curl"]`,
    sent: 2,
    allowed: [["sleep", 8000], ["sleep", 9000]],
  },
  { name: "global DENY in the root namespace", yaml: `${meta("global-deny-bar", "istio-system")}\nspec:\n  action: DENY\n  rules:\n  - from:\n    - source:\n        namespaces: ["bar"]`, sent: 1, allowed: [["sleep", 8000], ["sleep", 9000], ["curl", 8000], ["curl", 9000]] },
  { name: "selector policy selecting httpbin", yaml: `${meta("sel")}\nspec:\n  selector:\n    matchLabels: {app: httpbin}\n  rules:\n  - from:\n    - source:\n        principals: ["cluster.local/ns/foo/sa/sleep"]`, sent: 1, allowed: [["sleep", 8000], ["sleep", 9000]] },
  { name: "selector policy selecting another app has no effect", yaml: `${meta("sel-other")}\nspec:\n  selector:\n    matchLabels: {app: productpage}\n  rules:\n  - from:\n    - source:\n        principals: ["cluster.local/ns/foo/sa/sleep"]`, sent: 1, allowed: everyone },
  { name: "ALLOW with L7 fields matches nothing (fails closed)", yaml: `${meta("l7-allow")}\nspec:\n  rules:\n  - to:\n    - operation:\n        methods: ["GET"]`, sent: 1, allowed: [] },
  { name: "DENY with only L7 fields never fires", yaml: `${meta("l7-deny")}\nspec:\n  action: DENY\n  rules:\n  - to:\n    - operation:\n        paths: ["/admin"]`, sent: 1, allowed: everyone },
  { name: "DENY keeps its L4 part when a clause mixes L4 and L7", yaml: `${meta("l7-mixed")}\nspec:\n  action: DENY\n  rules:\n  - from:\n    - source:\n        namespaces: ["bar"]\n        requestPrincipals: ["*"]`, sent: 1, allowed: [["sleep", 8000], ["sleep", 9000], ["curl", 8000], ["curl", 9000]] },
  { name: "dry-run DENY changes no outcome", yaml: `${meta("dry-deny", "foo", ", annotations: {istio.io/dry-run: \"true\"}")}\nspec:\n  action: DENY\n  rules:\n  - {}`, sent: 1, allowed: everyone },
  { name: "a dry-run ALLOW does not count as an ALLOW policy", yaml: `${meta("dry-allow", "foo", ", annotations: {istio.io/dry-run: \"true\"}")}\nspec:\n  rules:\n  - from:\n    - source:\n        principals: ["cluster.local/ns/foo/sa/sleep"]`, sent: 1, allowed: everyone },
  { name: "AUDIT is not enforced at L4", yaml: `${meta("audit")}\nspec:\n  action: AUDIT\n  rules:\n  - {}`, sent: 0, allowed: everyone },
  { name: "CUSTOM is not enforced at L4", yaml: `${meta("custom")}\nspec:\n  action: CUSTOM\n  provider: {name: ext-authz}\n  rules:\n  - {}`, sent: 0, allowed: everyone },
  { name: "targetRefs policies are left to the waypoint", yaml: `${meta("waypoint-only")}\nspec:\n  targetRefs:\n  - {kind: Service, group: "", name: httpbin}\n  action: DENY\n  rules:\n  - {}`, sent: 0, allowed: everyone },
  { name: "principal prefix wildcard", yaml: `${meta("prefix")}\nspec:\n  rules:\n  - from:\n    - source:\n        principals: ["cluster.local/ns/foo/*"]`, sent: 1, allowed: [["sleep", 8000], ["sleep", 9000], ["curl", 8000], ["curl", 9000]] },
  { name: "principal suffix wildcard", yaml: `${meta("suffix")}\nspec:\n  rules:\n  - from:\n    - source:\n        principals: ["*/sa/other"]`, sent: 1, allowed: [["other", 8000], ["other", 9000]] },
  { name: "v1beta1 spelling behaves the same", yaml: `${meta("beta").replace("security.istio.io/v1", "security.istio.io/v1beta1")}\nspec:\n  rules:\n  - from:\n    - source:\n        notNamespaces: ["bar"]`, sent: 1, allowed: [["sleep", 8000], ["sleep", 9000], ["curl", 8000], ["curl", 9000]] },
];

for (const row of rows) {
  test(`policy: ${row.name}`, async () => {
    await applyAndWait(row.yaml, row.sent);
    try {
      for (const [client, port] of ALL) {
        const want = row.allowed.some(([c, p]) => c === client && p === port);
        assert.equal(await reach(client, port), want, `${client} → httpbin:${port} should be ${want ? "allowed" : "denied"}`);
        assert.equal(await explain(client, port), want, `explain disagrees for ${client} → httpbin:${port}`);
      }
    } finally {
      assert.equal((await cp.del(row.yaml)).status, 200);
      await applyAndWait("", 0);
    }
  }, { timeout: 60_000 });
}

test("dry-run outcomes show up in logs and metrics", async () => {
  const yaml = rows.find((r) => r.name.startsWith("dry-run DENY"))!.yaml;
  await applyAndWait(yaml, 1);
  try {
    assert.ok(await reach("curl", 8000));
    await b.proc.waitForLine(/dry-run: would deny.*policy=foo\/dry-deny/);
    assert.match(await b.metrics(), /ambit_authorization_dry_run_total\{would="deny",policy="foo\/dry-deny"[^}]*\} [1-9]/);
  } finally {
    await cp.del(yaml);
    await applyAndWait("", 0);
  }
});

test("tightening a policy closes an open connection it now denies within 1 s, and leaves allowed ones open", async () => {
  const open = async (client: Client) => {
    const r = await socksConnect({ address: ip[client], port: 15080 }, ip.httpbin, 8000);
    assert.ok(r.ok);
    return r.socket;
  };
  const curl = await open("curl");
  const sleep = await open("sleep");
  let curlClosedAt = 0;
  // A reading client, like any real one: Deno notices a peer's close only while it reads.
  curl.resume();
  // The mesh ends the connection with a reset or, depending on the runtime, a FIN; this
  // client socket is half-open, so a FIN shows as 'end' without 'close'.
  curl.on("end", () => (curlClosedAt ||= Date.now()));
  curl.on("close", () => (curlClosedAt ||= Date.now()));
  curl.on("error", () => {});
  const deny = `${meta("deny-curl-now")}\nspec:\n  action: DENY\n  rules:\n  - from:\n    - source:\n        principals: ["cluster.local/ns/foo/sa/curl"]`;
  const applied = Date.now();
  await applyAndWait(deny, 1);
  const deadline = applied + 1000 + 500;
  while (!curlClosedAt && Date.now() < deadline + 2000) await new Promise((r) => setTimeout(r, 20));
  try {
    assert.ok(curlClosedAt > 0, "the denied connection stayed open");
    assert.ok(curlClosedAt - applied <= 1000 + 500, `closed after ${curlClosedAt - applied} ms`);
    const echoed = await new Promise<string>((resolve) => {
      sleep.once("data", (d: Buffer) => resolve(String(d)));
      sleep.write("still-here");
    });
    assert.equal(echoed, "still-here");
  } finally {
    sleep.destroy();
    await cp.del(deny);
    await applyAndWait("", 0);
  }
});

/** A plaintext client (no HBONE) to httpbin's 15006, naming port 8000 with a PROXY header. */
function plaintext(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: ip.httpbin, port: 15006 }, () => s.write(`PROXY TCP4 ${ip.other} ${ip.httpbin} 40000 8000\r\nping`));
    let got = "";
    s.on("data", (d: Buffer) => {
      got += d;
      if (got === "ping") {
        s.end();
        resolve(true);
      }
    });
    s.on("error", () => resolve(false));
    s.on("close", () => resolve(got === "ping"));
    setTimeout(() => (s.destroy(), resolve(false)), 5000);
  });
}

test("PeerAuthentication: STRICT refuses a plaintext client on 15006, PERMISSIVE lets it through, switching needs no restart", async () => {
  const pa = (mode: string) => `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: foo}\nspec:\n  mtls:\n    mode: ${mode}`;
  const strictOnNodeB = async () => (await policies()).some((p) => p.name === "istio_converted_static_strict");
  const waitStrict = async (want: boolean) => {
    const deadline = Date.now() + 10_000;
    while ((await strictOnNodeB()) !== want) {
      assert.ok(Date.now() < deadline, `STRICT never became ${want} on node-b`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const pid = b.proc.child.pid;
  assert.equal((await cp.apply(pa("PERMISSIVE"))).status, 200);
  await waitStrict(false);
  assert.equal(await plaintext(), true, "PERMISSIVE refused plaintext");
  assert.equal((await cp.apply(pa("STRICT"))).status, 200);
  await waitStrict(true);
  assert.equal(await plaintext(), false, "STRICT let plaintext in");
  assert.ok(await reach("sleep", 8000), "STRICT refused mTLS");
  assert.equal((await cp.apply(pa("PERMISSIVE"))).status, 200);
  await waitStrict(false);
  assert.equal(await plaintext(), true, "back to PERMISSIVE, plaintext still refused");
  assert.equal(b.proc.child.pid, pid);
  await cp.del(pa("PERMISSIVE"));
});
