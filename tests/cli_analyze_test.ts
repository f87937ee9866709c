// `ambit analyze` as users run it: the real CLI process on the files in
// tests/fixtures/analyze/, each made for one kind of finding and analyzed
// together with _workloads.yaml (which alone has no finding). No controlplane.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { repoRoot, runCommand, runtimeCommand, test } from "../testing/mod.ts";

const dir = path.join(repoRoot, "tests", "fixtures", "analyze");
const analyze = (files: string[], extra: string[] = []) => {
  const [cmd, args] = runtimeCommand("cli/main.ts", ["analyze", ...files.flatMap((f) => ["-f", path.join(dir, f)]), ...extra]);
  return runCommand(cmd, args, { cwd: repoRoot, env: { NO_COLOR: "1" } });
};
interface Message { level: string; code: string; name: string; object?: string; file?: string; document?: number; field?: string; message: string }
const json = async (fixture: string, extra: string[] = []) => {
  const r = await analyze(["_workloads.yaml", fixture], ["-o", "json", ...extra]);
  return { code: r.code, messages: JSON.parse(r.stdout) as Message[], stderr: r.stderr };
};

test("clean config: no findings, exit 0", async () => {
  const r = await analyze(["_workloads.yaml", "clean.yaml"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /No validation issues found when analyzing 7 objects/);
});

test("schema errors: exit 1, each with file, document, object and field", async () => {
  const r = await analyze(["schema_error.yaml"]);
  assert.equal(r.code, 1);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, 2, r.stdout);
  assert.match(lines[0]!, /^Error \[IST0106\] \(AuthorizationPolicy shop\/broken .*schema_error\.yaml#2\) spec\.action: .*"PERMIT"/);
  assert.match(lines[1]!, /spec\.rules\[0\]\.from\[0\]\.source\.principals\[0\]: principals must not include the spiffe:\/\/ prefix/);
});

test("L7 fields in a policy without targetRefs: one warning per field, none for the waypoint's policy; exit 0", async () => {
  const { code, messages } = await json("l7_without_waypoint.yaml");
  assert.equal(code, 0);
  assert.ok(messages.every((m) => m.code === "AMB0101" && m.level === "Warning"), JSON.stringify(messages));
  assert.deepEqual(messages.map((m) => `${m.object} ${m.field}`), [
    "AuthorizationPolicy shop/web-get-only spec.rules[0].from[0].source.requestPrincipals",
    "AuthorizationPolicy shop/web-get-only spec.rules[0].to[0].operation.methods",
    "AuthorizationPolicy shop/web-get-only spec.rules[0].to[0].operation.paths",
    "AuthorizationPolicy shop/deny-admin spec.rules[0].to[0].operation.hosts",
    "AuthorizationPolicy shop/deny-admin spec.rules[0].when[0].key",
  ]);
  assert.match(messages[0]!.message, /allows nothing/);
  assert.match(messages[3]!.message, /DENY/);
  assert.ok(messages.every((m) => m.file?.endsWith("l7_without_waypoint.yaml")));
});

test("a selector matching no workload in the set (other label, other namespace)", async () => {
  const { code, messages } = await json("selector_no_match.yaml");
  assert.equal(code, 0);
  assert.deepEqual(messages.map((m) => [m.code, m.object, m.field]), [
    ["IST0127", "AuthorizationPolicy shop/ghost-policy", "spec.selector.matchLabels"],
    ["IST0127", "PeerAuthentication other/strict-web", "spec.selector.matchLabels"],
  ]);
  assert.match(messages[0]!.message, /app=ghost/);
});

test("a Service with no endpoints", async () => {
  const { messages } = await json("service_no_endpoints.yaml");
  assert.deepEqual(messages.map((m) => [m.code, m.name, m.object, m.field]), [["AMB0102", "ServiceWithoutEndpoints", "Service shop/cart", "spec.selector"]]);
});

test("istio.io/use-waypoint naming a Gateway not in the set (same and other namespace)", async () => {
  const { messages } = await json("waypoint_missing.yaml");
  assert.deepEqual(messages.map((m) => [m.code, m.object, m.field]), [
    ["IST0101", "Namespace billing", "metadata.labels[istio.io/use-waypoint]"],
    ["IST0101", "Pod shop/invoices", "metadata.labels[istio.io/use-waypoint]"],
  ]);
  assert.match(messages[1]!.message, /billing\/waypoint/);
});

test("principals in another trust domain; --trust-domain moves the mesh's", async () => {
  const { messages } = await json("foreign_trust_domain.yaml");
  assert.deepEqual(messages.map((m) => [m.code, m.field]), [
    ["AMB0103", "spec.rules[0].from[0].source.principals[0]"],
    ["AMB0103", "spec.rules[1].when[0].values[0]"],
  ]);
  const moved = await json("foreign_trust_domain.yaml", ["--trust-domain", "partner.example"]);
  assert.deepEqual(moved.messages.map((m) => m.field), ["spec.rules[0].from[0].source.principals[1]", "spec.rules[1].when[0].values[0]"]);
});

test("a missing file is a usage error (exit 2); stdin works", async () => {
  const missing = await analyze(["does_not_exist.yaml"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /does_not_exist\.yaml: no such file/);
  const [cmd, args] = runtimeCommand("cli/main.ts", ["analyze", "-f", "-"]);
  const r = await runCommand(cmd, args, { input: "apiVersion: v1\nkind: Service\nmetadata: {name: lonely}\nspec: {ports: [{port: 80}]}\n" });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Warning \[AMB0102\] \(Service default\/lonely <stdin>\) spec\.selector: the Service has no selector/);
});

test("mesh routes: one on a Service no waypoint serves, one a waypoint's allowedRoutes refuse; exit 0", async () => {
  const { code, messages } = await json("routes.yaml");
  assert.equal(code, 0);
  assert.deepEqual(messages.map((m) => [m.code, m.object, m.field]), [
    ["AMB0104", "HTTPRoute shop/web-route", "spec.parentRefs[0]"],
    ["AMB0105", "GRPCRoute shop/checkout-route", "spec.parentRefs[0]"],
  ]);
  assert.match(messages[0]!.message, /no waypoint serves Service shop\/legacy/);
  assert.match(messages[1]!.message, /waypoint infra\/shared refuses GRPCRoute shop\/checkout-route: listener mesh allows routes from namespace infra only/);
});

test("the waypoint's L7 policies: no waypoint for the target, a JWT rule without keys, RequestAuthentication by selector, a missing target", async () => {
  const { code, messages } = await json("l7_waypoint.yaml");
  assert.equal(code, 0);
  assert.deepEqual(messages.map((m) => `${m.code} ${m.object} ${m.field}`), [
    "AMB0101 AuthorizationPolicy shop/no-waypoint spec.targetRefs[0]",
    "AMB0101 RequestAuthentication shop/sidecar-style spec.selector",
    "IST0101 BackendTrafficPolicy shop/ghost-limit spec.targetRefs[0]",
    "AMB0106 RequestAuthentication shop/keyless spec.jwtRules[0]",
  ]);
});
