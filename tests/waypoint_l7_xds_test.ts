// The istio.io require-jwt example in xDS mode: the same Istio YAML, translated
// by the controlplane's translation, reaches the waypoint as ServiceL7Policy
// resources over delta xDS (from the stand-in controlplane the waypoint xDS
// suite uses: testing/fake_waypoint_controlplane.ts) and is enforced as in
// local-file mode. The issuer is real (oauth2-mock-server).
import * as assert from "node:assert/strict";
import { OAuth2Server } from "oauth2-mock-server";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../config/objects.ts";
import { translateL7Policies } from "../controlplane/translate/l7_policy.ts";
import { afterAll, test } from "../testing/harness.ts";
import { loopbackAddress } from "../testing/loopback.ts";
import { startWaypointMesh } from "../testing/waypoint_mesh.ts";

const issuer = new OAuth2Server();
await issuer.issuer.keys.generate("RS256");
const address = loopbackAddress();
await issuer.start(0, address);
issuer.issuer.url = `http://${address}:${new URL(issuer.issuer.url!).port}`;
const iss = issuer.issuer.url;

const objects = parseAllDocuments(`
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: httpbin, namespace: default}
spec:
  targetRefs: [{kind: Service, group: "", name: httpbin}]
  jwtRules: [{issuer: "${iss}", jwksUri: "${iss}/jwks"}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: require-jwt, namespace: default}
spec:
  targetRefs: [{kind: Service, group: "", name: httpbin}]
  action: ALLOW
  rules: [{from: [{source: {requestPrincipals: ["*"]}}]}]
`).map((d) => d.toJS() as KubeObject);
const { policies } = translateL7Policies(objects, { serviceKey: (ns, n) => `${ns}/${n}.${ns}.svc.cluster.local`, gatewayServices: () => [] });

const mesh = await startWaypointMesh([{ name: "httpbin", vip: "10.96.21.1", backends: ["httpbin-v1"] }], () => [], { xds: true, extra: () => ({ l7Policies: policies }) });
afterAll(async () => {
  await mesh.stop();
  await issuer.stop();
});

test("xDS mode: require-jwt — no token 403, bad token 401, valid token 200; every type ACKed", async () => {
  assert.equal((await mesh.request("httpbin", { path: "/headers" })).status, 403);
  assert.equal((await mesh.request("httpbin", { headers: { authorization: "Bearer x.y.z" } })).status, 401);
  const token = await issuer.issuer.buildToken({ scopesOrTransform: (_h, p) => Object.assign(p, { sub: "alice" }) });
  const ok = await mesh.request("httpbin", { headers: { authorization: `Bearer ${token}` } });
  assert.equal(ok.status, 200, ok.body);
  const types = mesh.controlplane!.status().flatMap((s) => s.types);
  assert.ok(types.some((t) => String(t.typeUrl) === "ambit.dev/v1/ServiceL7Policy") && types.every((t) => !t.lastNack), JSON.stringify(types));
}, { timeout: 30_000 });
