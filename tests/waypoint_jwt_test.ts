// RequestAuthentication + L7 AuthorizationPolicy end to end, through a real
// waypoint process started from a local file, with a real OIDC issuer
// (oauth2-mock-server: discovery + JWKS over HTTP) and tokens minted
// independently by python3-jwt. The two istio.io ambient examples are applied
// as Istio YAML (only issuer and jwksUri point at the test issuer) and go
// through the controlplane's translation (controlplane/translate/l7_policy.ts).
// Nothing is faked: the source ztunnel's hand-off is an HBONE forwarder with
// the client's own certificate, as in the other waypoint suites.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { generateKeyPair, SignJWT } from "jose";
import { OAuth2Server } from "oauth2-mock-server";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../config/objects.ts";
import { translateL7Policies } from "../controlplane/translate/l7_policy.ts";
import { afterAll, test } from "../testing/harness.ts";
import { loopbackAddress } from "../testing/loopback.ts";
import { startWaypointMesh } from "../testing/waypoint_mesh.ts";

/** An issuer on its own loopback address (its URL would say localhost, which is 127.0.0.1, not where it listens). */
async function startIssuer(kid?: string): Promise<OAuth2Server> {
  const server = new OAuth2Server();
  await server.issuer.keys.generate("RS256", kid ? { kid } : undefined);
  const address = loopbackAddress();
  await server.start(0, address);
  server.issuer.url = `http://${address}:${new URL(server.issuer.url!).port}`;
  return server;
}
const issuer = await startIssuer();
const iss = issuer.issuer.url!;
// A second issuer, for key rotation and outage: its cache is its own.
const rotating = await startIssuer("first");
const rotIss = rotating.issuer.url!;

// istio.io ambient examples (targetRefs to a Service), unchanged but for the issuer.
const ISTIO_YAML = `
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: httpbin
  namespace: default
spec:
  targetRefs:
  - kind: Service
    group: ""
    name: httpbin
  jwtRules:
  - issuer: "${iss}"
    jwksUri: "${iss}/jwks"
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: require-jwt
  namespace: default
spec:
  targetRefs:
  - kind: Service
    group: ""
    name: httpbin
  action: ALLOW
  rules:
  - from:
    - source:
        requestPrincipals: ["*"]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: require-valid-paths
  namespace: default
spec:
  targetRefs:
  - kind: Service
    group: ""
    name: productpage
  action: ALLOW
  rules:
  - to:
    - operation:
        paths: ["/api/*"]
        methods: ["GET", "POST"]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: options
  namespace: default
spec:
  targetRefs:
  - kind: Service
    name: options
  jwtRules:
  - issuer: "${iss}"
    audiences: ["options-api"]
    fromHeaders: [{ name: x-jwt, prefix: "Token " }]
    fromParams: ["access_token"]
    fromCookies: ["session"]
    outputPayloadToHeader: x-jwt-payload
    outputClaimToHeaders: [{ header: x-user, claim: sub }, { header: x-role, claim: realm.role }]
  - issuer: "${rotIss}"
    forwardOriginalToken: true
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: rotating
  namespace: default
spec:
  targetRefs:
  - kind: Service
    name: rotating
  jwtRules:
  - issuer: "${rotIss}"
`;
const objects = parseAllDocuments(ISTIO_YAML).map((d) => d.toJS() as KubeObject);
const { policies, warnings } = translateL7Policies(objects, {
  serviceKey: (ns, name) => `${ns}/${name}.${ns}.svc.cluster.local`,
  gatewayServices: () => [],
});
assert.deepEqual(warnings, []);

const mesh = await startWaypointMesh([
  { name: "httpbin", vip: "10.96.7.1", backends: ["httpbin-v1"] },
  { name: "productpage", vip: "10.96.7.2", backends: ["productpage-v1"] },
  { name: "options", vip: "10.96.7.3", backends: ["options-v1"] },
  { name: "rotating", vip: "10.96.7.4", backends: ["rotating-v1"] },
], () => [], { extra: () => ({ l7Policies: policies }) });
afterAll(async () => {
  await mesh.stop();
  await issuer.stop().catch(() => {});
  await rotating.stop().catch(() => {});
});

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const token = (claims: Record<string, unknown> = {}, expiresIn = 3600, server = issuer, kid?: string) =>
  server.issuer.buildToken({ expiresIn, kid, scopesOrTransform: (_h, p) => Object.assign(p, { sub: "alice", ...claims }) });

test("require-jwt: no token 403, valid token 200 with the token removed upstream, bad token 401", async () => {
  const none = await mesh.request("httpbin", { path: "/headers" });
  assert.equal(none.status, 403, none.body);
  assert.equal(none.body.trim(), "RBAC: access denied");
  const ok = await mesh.request("httpbin", { path: "/headers", headers: bearer(await token()) });
  assert.equal(ok.status, 200, ok.body);
  assert.equal(ok.echo?.headers.authorization, undefined, "the token is not forwarded by default");
  const bad = await mesh.request("httpbin", { path: "/headers", headers: bearer("not.a.jwt") });
  assert.equal(bad.status, 401, bad.body);
  assert.match(String(bad.headers["www-authenticate"]), /^Bearer realm="http:\/\/httpbin\.default\.svc\.cluster\.local\/headers", error="invalid_token"$/);
}, { timeout: 30_000 });

test("real issuer: expired, wrong audience, wrong issuer, unknown kid, tampered → 401", async () => {
  const expired = await mesh.request("httpbin", { headers: bearer(await token({}, -3600)) });
  assert.equal(expired.status, 401);
  assert.equal(expired.body.trim(), "Jwt is expired");
  const aud = await mesh.request("options", { headers: { "x-jwt": `Token ${await token({ aud: "someone-else" })}` } });
  assert.equal(aud.status, 401);
  assert.equal(aud.body.trim(), "Audiences in Jwt are not allowed");
  const wrongIss = await mesh.request("httpbin", { headers: bearer(await token({ iss: "https://elsewhere.example" })) });
  assert.equal(wrongIss.status, 401);
  assert.equal(wrongIss.body.trim(), "Jwt issuer is not configured");
  // Signed with a key the issuer never published, under the issuer's name.
  const rogue = await generateKeyPair("RS256");
  const forged = await new SignJWT({ sub: "mallory" }).setProtectedHeader({ alg: "RS256", kid: "rogue" }).setIssuer(iss).setExpirationTime("1h").sign(rogue.privateKey);
  const unknownKid = await mesh.request("httpbin", { headers: bearer(forged) });
  assert.equal(unknownKid.status, 401);
  const good = await token();
  const [h, p, s] = good.split(".");
  const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, "base64url").toString()), sub: "root" })).toString("base64url")}.${s}`;
  assert.equal((await mesh.request("httpbin", { headers: bearer(tampered) })).status, 401);
}, { timeout: 30_000 });

test("require-valid-paths: GET/POST under /api/ 200; other methods and paths 403; dot segments normalized", async () => {
  assert.equal((await mesh.request("productpage", { path: "/api/items" })).status, 200);
  assert.equal((await mesh.request("productpage", { path: "/api/items", method: "POST", body: "x" })).status, 200);
  assert.equal((await mesh.request("productpage", { path: "/api/items", method: "DELETE" })).status, 403);
  assert.equal((await mesh.request("productpage", { path: "/admin" })).status, 403);
  assert.equal((await mesh.request("productpage", { path: "/api/../admin" })).status, 403);
  const decoded = await mesh.request("productpage", { path: "/%61pi/items?x=1" });
  assert.equal(decoded.status, 200);
  assert.equal(decoded.echo?.path, "/api/items?x=1", "the backend sees the path the policy saw");
}, { timeout: 30_000 });

test("token locations and outputs: custom header prefix, query param, cookie; payload and claims to headers; spoofed output headers dropped", async () => {
  const t = await token({ aud: "options-api", realm: { role: "admin" } });
  const viaHeader = await mesh.request("options", { headers: { "x-jwt": `Token ${t}`, "x-user": "spoofed" } });
  assert.equal(viaHeader.status, 200, viaHeader.body);
  assert.equal(viaHeader.echo?.headers["x-user"], "alice");
  assert.equal(viaHeader.echo?.headers["x-role"], "admin");
  assert.equal(JSON.parse(Buffer.from(viaHeader.echo!.headers["x-jwt-payload"]!, "base64url").toString()).sub, "alice");
  assert.equal(viaHeader.echo?.headers["x-jwt"], undefined);
  const viaParam = await mesh.request("options", { path: `/q?access_token=${t}&keep=1` });
  assert.equal(viaParam.status, 200);
  assert.equal(viaParam.echo?.path, "/q?keep=1");
  const viaCookie = await mesh.request("options", { headers: { cookie: `a=1; session=${t}` } });
  assert.equal(viaCookie.status, 200);
  assert.equal(viaCookie.echo?.headers.cookie, "a=1");
  const noToken = await mesh.request("options", { headers: { "x-user": "spoofed" } });
  assert.equal(noToken.status, 200, "no policy asks for a principal");
  assert.equal(noToken.echo?.headers["x-user"], undefined, "an output header is never taken from the client");
  // The second rule keeps its token (forwardOriginalToken).
  const kept = await mesh.request("options", { headers: bearer(await token({}, 3600, rotating)) });
  assert.equal(kept.status, 200);
  assert.match(String(kept.echo?.headers.authorization), /^Bearer /);
}, { timeout: 30_000 });

test("python3-jwt agrees: a token it mints with the issuer's key is accepted, and it verifies the issuer's tokens", async () => {
  const privateJwk = issuer.issuer.keys.toJSON(true)[0]!;
  const script = `
import json, sys, time, jwt
from jwt.algorithms import RSAAlgorithm
args = json.loads(sys.stdin.read())
key = RSAAlgorithm.from_jwk(json.dumps(args["jwk"]))
if args["mode"] == "mint":
    print(jwt.encode({"iss": args["iss"], "sub": "py-user", "exp": int(time.time()) + 600}, key, algorithm="RS256", headers={"kid": args["jwk"]["kid"]}))
else:
    print(json.dumps(jwt.decode(args["token"], key.public_key(), algorithms=["RS256"], options={"verify_aud": False})))
`;
  const py = (input: object) => execFileSync("/usr/bin/python3", ["-c", script], { input: JSON.stringify(input) }).toString().trim();
  const minted = py({ mode: "mint", jwk: privateJwk, iss });
  const r = await mesh.request("httpbin", { headers: bearer(minted) });
  assert.equal(r.status, 200, r.body);
  const claims = JSON.parse(py({ mode: "verify", jwk: privateJwk, token: await token() })) as { sub: string; iss: string };
  assert.equal(claims.sub, "alice");
  assert.equal(claims.iss, iss);
}, { timeout: 30_000 });

test("key rotation without a restart, then an issuer outage: the last good keys keep serving", async () => {
  const first = await token({}, 3600, rotating, "first");
  assert.equal((await mesh.request("rotating", { headers: bearer(first) })).status, 200);
  await rotating.issuer.keys.generate("RS256", { kid: "second" });
  const second = await token({}, 3600, rotating, "second");
  const r = await mesh.request("rotating", { headers: bearer(second) });
  assert.equal(r.status, 200, `a token under the new kid is accepted after a refresh: ${r.body}`);
  await rotating.stop();
  assert.equal((await mesh.request("rotating", { headers: bearer(first) })).status, 200, "issuer down: cached keys still verify");
  assert.equal((await mesh.request("rotating", { headers: bearer(second) })).status, 200);
}, { timeout: 30_000 });
