// The JWT filter over inline JWKS (keys made here with jose): what passes,
// what is refused with 401, and what reaches upstream.
import { expect, test } from "bun:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import type { JwtRule } from "../../xds/l7_policy_resources.ts";
import { JwksCache } from "../jwks_cache.ts";
import { requestAuthOf } from "../l7_context.ts";
import { runFilter } from "./_security_fixture.ts";
import { jwtAuthn } from "./jwt.ts";

const { privateKey, publicKey } = await generateKeyPair("ES256");
const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" };
const ISS = "https://issuer.example";
const rule = (over: Partial<JwtRule> = {}): JwtRule => ({
  issuer: ISS, audiences: [], jwks: JSON.stringify({ keys: [jwk] }), fromHeaders: [], fromParams: [], fromCookies: [],
  outputClaimToHeaders: [], forwardOriginalToken: false, timeoutMs: 1000, ...over,
});
const sign = (claims: Record<string, unknown> = {}, exp: string | number = "1h") =>
  new SignJWT({ sub: "alice", ...claims }).setProtectedHeader({ alg: "ES256", kid: "k1" }).setIssuer(ISS).setExpirationTime(exp).sign(privateKey);
const filter = jwtAuthn({ jwks: new JwksCache() });
const run = (rules: JwtRule[], headers: Record<string, string> = {}, path = "/") =>
  runFilter(filter, { requestAuthentications: [{ name: "ra", namespace: "default", jwtRules: rules }] }, { headers, path });

test("no token: passes unauthenticated", async () => {
  const r = await run([rule()]);
  expect(r.passed).toBe(true);
  expect(requestAuthOf(r.ctx)).toBeUndefined();
});

test("valid token: principal iss/sub, audiences, presenter; token removed upstream", async () => {
  const r = await run([rule()], { authorization: `Bearer ${await sign({ aud: ["a", "b"], azp: "web" })}` });
  expect(r.passed).toBe(true);
  expect(requestAuthOf(r.ctx)).toMatchObject({ principal: `${ISS}/alice`, audiences: ["a", "b"], presenter: "web" });
  expect(r.ctx.upstream.headers.authorization).toBeUndefined();
});

test("the Bearer scheme is case-insensitive; forwardOriginalToken keeps the header", async () => {
  const t = await sign();
  const r = await run([rule({ forwardOriginalToken: true })], { authorization: `bearer ${t}` });
  expect(r.passed).toBe(true);
  expect(r.ctx.upstream.headers.authorization).toBe(`bearer ${t}`);
});

test("invalid tokens: 401 with WWW-Authenticate and Envoy's messages", async () => {
  const cases: [string, string, string][] = [
    ["expired beyond the 60 s skew", await sign({}, Math.floor(Date.now() / 1000) - 120), "Jwt is expired"],
    ["not a JWT", "abc", "Jwt is not in the form of Header.Payload.Signature"],
    ["unknown issuer", await new SignJWT({}).setProtectedHeader({ alg: "ES256", kid: "k1" }).setIssuer("https://other").sign(privateKey), "Jwt issuer is not configured"],
  ];
  for (const [label, token, message] of cases) {
    const r = await run([rule()], { authorization: `Bearer ${token}` }, "/p?q=1");
    expect(r.passed, label).toBe(false);
    expect(r.status, label).toBe(401);
    expect(r.body.trim(), label).toBe(message);
    expect(r.headers["www-authenticate"], label).toBe(`Bearer realm="http://httpbin.default.svc.cluster.local:8000/p", error="invalid_token"`);
  }
});

test("wrong audience is 401; within the 60 s skew an expired token still passes (Envoy)", async () => {
  const aud = await run([rule({ audiences: ["mine"] })], { authorization: `Bearer ${await sign({ aud: "yours" })}` });
  expect(aud.body.trim()).toBe("Audiences in Jwt are not allowed");
  const skew = await run([rule()], { authorization: `Bearer ${await sign({}, Math.floor(Date.now() / 1000) - 10)}` });
  expect(skew.passed).toBe(true);
});

test("custom header with prefix; the default header is then not read", async () => {
  const t = await sign();
  const r = await run([rule({ fromHeaders: [{ name: "X-Jwt", prefix: "Token " }] })], { "x-jwt": `Token ${t}` });
  expect(r.passed).toBe(true);
  expect(requestAuthOf(r.ctx)?.principal).toBe(`${ISS}/alice`);
  const other = await run([rule({ fromHeaders: [{ name: "x-jwt", prefix: "Token " }] })], { authorization: "Bearer garbage" });
  expect(other.passed).toBe(true);
  expect(requestAuthOf(other.ctx)).toBeUndefined();
});

test("outputs: payload and claims to headers; client-sent copies are dropped even without a token", async () => {
  const r = await run([rule({ outputPayloadToHeader: "x-payload", outputClaimToHeaders: [{ header: "x-sub", claim: "sub" }, { header: "x-groups", claim: "groups" }] })],
    { authorization: `Bearer ${await sign({ groups: ["a", "b"] })}`, "x-sub": "root" });
  expect(r.ctx.upstream.headers["x-sub"]).toBe("alice");
  expect(r.ctx.upstream.headers["x-groups"]).toBe("a,b");
  expect(JSON.parse(Buffer.from(String(r.ctx.upstream.headers["x-payload"]), "base64url").toString()).sub).toBe("alice");
  const spoof = await run([rule({ outputClaimToHeaders: [{ header: "x-sub", claim: "sub" }] })], { "x-sub": "root" });
  expect(spoof.ctx.upstream.headers["x-sub"]).toBeUndefined();
});

test("no RequestAuthentication: the filter does nothing", async () => {
  const r = await runFilter(filter, {}, { headers: { authorization: "Bearer garbage" } });
  expect(r.passed).toBe(true);
  expect(r.ctx.upstream.headers.authorization).toBe("Bearer garbage");
});

test("HS256 is never accepted, fetched or inline (a published oct key would let anyone sign)", async () => {
  const secret = new TextEncoder().encode("published-secret-published-secret");
  const hs = await new SignJWT({ sub: "mallory" }).setProtectedHeader({ alg: "HS256", kid: "oct" }).setIssuer(ISS).setExpirationTime("1h").sign(secret);
  const octJwks = JSON.stringify({ keys: [{ kty: "oct", kid: "oct", alg: "HS256", k: Buffer.from(secret).toString("base64url") }] });
  const fetched = new JwksCache({ fetch: (() => Promise.resolve(new Response(octJwks))) as unknown as typeof fetch });
  const remote = await runFilter(jwtAuthn({ jwks: fetched }), { requestAuthentications: [{ name: "ra", namespace: "default", jwtRules: [rule({ jwks: undefined, jwksUri: `${ISS}/jwks` })] }] }, { headers: { authorization: `Bearer ${hs}` } });
  expect(remote.status).toBe(401);
  const inline = await run([rule({ jwks: octJwks })], { authorization: `Bearer ${hs}` });
  expect(inline.status).toBe(401);
});
