// AuthorizationPolicy CUSTOM end to end: a real waypoint (local file) asks an
// ext_authz server written here from Envoy's documented HTTP protocol (the
// original method and path under pathPrefix, no body, only the allowed
// headers; 200 allows, anything else is the client's answer). The providers
// come from an Istio mesh config, read by the controlplane's parser.
import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../config/objects.ts";
import { translateL7Policies } from "../controlplane/translate/l7_policy.ts";
import { parseMeshConfig } from "../controlplane/translate/mesh_config.ts";
import { afterAll, test } from "../testing/harness.ts";
import { loopbackAddress } from "../testing/loopback.ts";
import { startWaypointMesh } from "../testing/waypoint_mesh.ts";

/** What the authz server saw of each check. */
const checks: { method: string; url: string; headers: http.IncomingHttpHeaders; bodyBytes: number }[] = [];
const authz = http.createServer((req, res) => {
  let bodyBytes = 0;
  req.on("data", (c: Buffer) => (bodyBytes += c.length));
  req.on("end", () => {
    checks.push({ method: req.method!, url: req.url!, headers: req.headers, bodyBytes });
    if (req.url!.includes("/slow")) return void setTimeout(() => res.end(), 2000);
    if (req.headers["x-ext-authz"] === "allow") {
      res.writeHead(200, { "x-ext-authz-check-result": "allowed", "x-ext-authz-note": "hello", "x-not-passed": "1" });
      return void res.end();
    }
    res.writeHead(403, { "x-ext-authz-check-result": "denied", "content-type": "text/plain", "x-not-passed": "1" });
    res.end("denied by ext_authz for testing");
  });
});
const authzAddress = loopbackAddress();
await new Promise<void>((r) => authz.listen(0, authzAddress, r));
const authzPort = (authz.address() as AddressInfo).port;

const meshConfig = parseMeshConfig("mesh.yaml", `
extensionProviders:
- name: sample-ext-authz-http
  envoyExtAuthzHttp:
    service: ${authzAddress}
    port: ${authzPort}
    timeout: 300ms
    pathPrefix: /check
    includeRequestHeadersInCheck: ["x-ext-authz"]
    headersToUpstreamOnAllow: ["x-ext-authz-check-result"]
    headersToDownstreamOnAllow: ["x-ext-authz-note"]
    headersToDownstreamOnDeny: ["x-ext-authz-check-result"]
- name: unreachable-open
  envoyExtAuthzHttp: { service: ${loopbackAddress()}, port: 9, timeout: 300ms, failOpen: true }
- name: unreachable-closed
  envoyExtAuthzHttp: { service: ${loopbackAddress()}, port: 9, timeout: 300ms, statusOnError: "503" }
`);

const custom = (name: string, service: string, provider: string, paths = ["*"]) => `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ${name}, namespace: default }
spec:
  targetRefs: [{ kind: Service, group: "", name: ${service} }]
  action: CUSTOM
  provider: { name: ${provider} }
  rules: [{ to: [{ operation: { paths: ${JSON.stringify(paths)} } }] }]
---`;
const yaml = custom("ext-authz", "guarded", "sample-ext-authz-http", ["/headers", "/slow*"]) + custom("open", "lenient", "unreachable-open") +
  custom("closed", "strict", "unreachable-closed") + custom("missing", "orphan", "no-such-provider");
const { policies } = translateL7Policies(parseAllDocuments(yaml).map((d) => d.toJS() as KubeObject).filter(Boolean), {
  serviceKey: (ns, name) => `${ns}/${name}.${ns}.svc.cluster.local`,
  gatewayServices: () => [],
});

const mesh = await startWaypointMesh([
  { name: "guarded", vip: "10.96.8.1", backends: ["guarded-v1"] },
  { name: "lenient", vip: "10.96.8.2", backends: ["lenient-v1"] },
  { name: "strict", vip: "10.96.8.3", backends: ["strict-v1"] },
  { name: "orphan", vip: "10.96.8.4", backends: ["orphan-v1"] },
], () => [], { extra: () => ({ l7Policies: policies, extAuthzProviders: meshConfig.extAuthzProviders }) });
afterAll(async () => {
  await mesh.stop();
  await new Promise((r) => authz.close(r));
});

test("allow: the check carries method, prefixed path and only the allowed headers; allowed headers go upstream and downstream", async () => {
  checks.length = 0;
  const r = await mesh.request("guarded", { method: "POST", path: "/headers?a=1", body: "payload", headers: { "x-ext-authz": "allow", "x-secret": "s", authorization: "Basic eA==" } });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.echo?.headers["x-ext-authz-check-result"], "allowed");
  assert.equal(r.echo?.headers["x-not-passed"], undefined);
  assert.equal(r.headers["x-ext-authz-note"], "hello");
  assert.equal(checks.length, 1);
  const c = checks[0]!;
  assert.equal(c.method, "POST");
  assert.equal(c.url, "/check/headers?a=1");
  assert.equal(c.bodyBytes, 0);
  assert.equal(c.headers.host, "guarded.default.svc.cluster.local");
  assert.equal(c.headers["x-ext-authz"], "allow");
  assert.equal(c.headers.authorization, "Basic eA==");
  assert.equal(c.headers["x-secret"], undefined, "headers not listed stay with the request");
}, { timeout: 30_000 });

test("deny: the provider's status, body and allowed headers reach the client; the backend is never asked", async () => {
  const r = await mesh.request("guarded", { path: "/headers", headers: { "x-ext-authz": "deny" } });
  assert.equal(r.status, 403);
  assert.equal(r.body.trim(), "denied by ext_authz for testing");
  assert.equal(r.headers["x-ext-authz-check-result"], "denied");
  assert.equal(r.headers["x-not-passed"], undefined);
  assert.equal(r.echo, undefined);
}, { timeout: 30_000 });

test("paths the CUSTOM policy does not match are not checked", async () => {
  checks.length = 0;
  const r = await mesh.request("guarded", { path: "/other" });
  assert.equal(r.status, 200);
  assert.equal(checks.length, 0);
}, { timeout: 30_000 });

test("timeout and unreachable providers: fail closed with statusOnError (default 403), fail open when asked", async () => {
  const slow = await mesh.request("guarded", { path: "/slow", headers: { "x-ext-authz": "allow" } });
  assert.equal(slow.status, 403, "timeout, fail closed");
  assert.equal((await mesh.request("lenient")).status, 200, "failOpen");
  assert.equal((await mesh.request("strict")).status, 503, "statusOnError");
  const orphan = await mesh.request("orphan");
  assert.equal(orphan.status, 403, "a provider missing from the mesh config denies");
}, { timeout: 30_000 });
