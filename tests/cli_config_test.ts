// The config verbs as users run them: the real CLI process against a real
// controlplane over its TLS API (admin token file, root CA), and once over a
// loopback dev listener. apply validates before sending and changes nothing on
// error; get -o json|yaml reads back through apply unchanged; delete by file
// and by name.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { afterAll, loopbackAddress, repoRoot, startTestControlplane, test } from "../testing/mod.ts";

const devListen = `${loopbackAddress()}:15010`;
const cp = await startTestControlplane(["--dev-listen", devListen]);
const fixtures = path.join(repoRoot, "tests", "fixtures", "analyze");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-cli-"));
afterAll(async () => {
  await cp.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
});
const tls = ["--controlplane", cp.url, "--token-file", path.join(cp.stateDir, "admin-token"), "--controlplane-ca", cp.rootCertFile];

function ambit(args: string[], options: { input?: string; auth?: string[] } = {}) {
  return cp.cli(args, { cwd: tmp, input: options.input, auth: options.auth ?? tls });
}
const auditLength = async () =>
  (await cp.admin.json<{ entries: unknown[] }>("GET", "/api/v1/audit?limit=100000", undefined, { authorization: `Bearer ${fs.readFileSync(path.join(cp.stateDir, "admin-token"), "utf8").trim()}` })).entries.length;

test("apply of an invalid file exits 1, names file, document, object and field, and changes nothing", async () => {
  const before = await auditLength();
  const r = await ambit(["apply", "-f", path.join(fixtures, "schema_error.yaml")]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /schema_error\.yaml#2: AuthorizationPolicy shop\/broken: spec\.action: must be one of ALLOW, DENY, AUDIT, CUSTOM, not "PERMIT"/);
  assert.match(r.stderr, /schema_error\.yaml#2: AuthorizationPolicy shop\/broken: spec\.rules\[0\]\.from\[0\]\.source\.principals\[0\]: /);
  assert.match(r.stderr, /nothing was applied: 2 problems/);
  assert.equal(r.stdout, "");
  assert.equal(await auditLength(), before);
  const sa = await ambit(["get", "sa", "should-not-exist", "-n", "shop"]);
  assert.equal(sa.code, 1);
  assert.match(sa.stderr, /ServiceAccount shop\/should-not-exist not found/);
});

test("apply of a directory and of several files; --dry-run reports and changes nothing", async () => {
  const dir = path.join(tmp, "config");
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(fixtures, "_workloads.yaml"), path.join(dir, "workloads.yaml"));
  fs.writeFileSync(path.join(dir, "notes.txt"), "not config: skipped\n");
  const r = await ambit(["apply", "-f", dir, "-f", path.join(fixtures, "clean.yaml")]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^AuthorizationPolicy shop\/db-from-web created$/m);
  assert.equal(r.stdout.trim().split("\n").length, 7);
  const before = await auditLength();
  const changed = fs.readFileSync(path.join(fixtures, "clean.yaml"), "utf8").replace('"5432"', '"5433"');
  const dry = await ambit(["apply", "--dry-run", "-f", "-"], { input: changed });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^AuthorizationPolicy shop\/db-from-web configured \(dry run\)$/m);
  assert.match(dry.stdout, /^Service shop\/db unchanged \(dry run\)$/m);
  assert.equal(await auditLength(), before);
});

test("get -o json and -o yaml of a list and of one object read back through apply unchanged", async () => {
  for (const [args, ext] of [[["get", "all", "-o", "json"], "json"], [["get", "pods", "-n", "shop", "-o", "yaml"], "yaml"], [["get", "ap", "db-from-web", "-n", "shop", "-o", "json"], "json"]] as const) {
    const got = await ambit([...args]);
    assert.equal(got.code, 0, got.stderr);
    const data = ext === "json" ? JSON.parse(got.stdout) : parse(got.stdout);
    assert.ok(data.kind === "List" ? data.items.length > 0 : data.kind === "AuthorizationPolicy", got.stdout);
    const file = path.join(tmp, `export.${ext}`);
    fs.writeFileSync(file, got.stdout);
    const back = await ambit(["apply", "-f", file]);
    assert.equal(back.code, 0, back.stderr);
    assert.ok(back.stdout.trim().split("\n").every((l) => l.endsWith(" unchanged")), `${args.join(" ")} did not round-trip:\n${back.stdout}`);
  }
  const table = await ambit(["get", "pods", "-n", "shop"]);
  assert.match(table.stdout, /^NAME\s+NODE\s+IP\s+STATUS\s+AGE$/m);
  assert.match(table.stdout, /^web\s+node-a\s+10\.0\.0\.1\s+Running\s+\d+s$/m);
  const ap = await ambit(["get", "authorizationpolicies.security.istio.io", "-n", "shop"]);
  assert.match(ap.stdout, /^db-from-web\s+ALLOW\s+app=db\s+/m);
});

test("delete by kind and name; a missing name exits 1 unless --ignore-not-found; delete -f", async () => {
  const del = await ambit(["delete", "ap", "db-from-web", "-n", "shop"]);
  assert.equal(del.code, 0, del.stderr);
  assert.equal(del.stdout, "AuthorizationPolicy shop/db-from-web deleted\n");
  const again = await ambit(["delete", "ap", "db-from-web", "-n", "shop"]);
  assert.equal(again.code, 1);
  assert.match(again.stdout, /not found/);
  assert.equal((await ambit(["delete", "ap", "db-from-web", "-n", "shop", "--ignore-not-found"])).code, 0);
  const byFile = await ambit(["delete", "-f", path.join(fixtures, "_workloads.yaml")]);
  assert.equal(byFile.code, 0, byFile.stderr);
  assert.match(byFile.stdout, /^Pod shop\/web deleted$/m);
  const left = JSON.parse((await ambit(["get", "all", "-n", "shop", "-o", "json"])).stdout);
  assert.deepEqual(left.items.map((o: { kind: string }) => o.kind), ["Service"]);
});

test("-n fills in the namespace of objects that name none; the dev listener needs no token", async () => {
  const dev = ["--controlplane", `http://${devListen}`];
  const r = await ambit(["apply", "-n", "blue", "-f", "-"], { auth: dev, input: "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: robot}\n" });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "ServiceAccount blue/robot created\n");
  const got = JSON.parse((await ambit(["get", "sa", "robot", "-n", "blue", "-o", "json"], { auth: dev })).stdout);
  assert.equal(got.metadata.namespace, "blue");
});

test("the TLS API without the admin token is refused: exit 1 with the reason", async () => {
  const r = await ambit(["get", "pods"], { auth: ["--controlplane", cp.url, "--controlplane-ca", cp.rootCertFile] });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /401 .*admin token/);
});

test("apply prints the warnings the controlplane returns: a policy ztunnel cannot enforce as written, a kind nothing enforces yet", async () => {
  const input = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: l7-without-waypoint, namespace: warn}
spec:
  rules: [{to: [{operation: {paths: ["/admin"]}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: warn}
spec:
  hosts: [reviews]
`;
  const r = await ambit(["apply", "-f", "-"], { input });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Warning: .*AuthorizationPolicy warn\/l7-without-waypoint: ztunnel cannot enforce L7 fields \(found: .*paths/);
  assert.match(r.stderr, /Warning: .*VirtualService warn\/reviews: kind: VirtualService \(networking\.istio\.io\) is stored but not enforced by Ambit/);
  assert.equal(r.stderr.match(/VirtualService warn\/reviews/g)?.length, 1, "each warning once");
});
