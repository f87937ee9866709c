// The JWKS cache's timing rules, with the issuer's HTTP answers given by an
// injected fetch (so an outage and a request count can be set exactly; the
// real issuer is in tests/waypoint_jwt_test.ts) and a clock the test moves.
import { expect, test } from "bun:test";
import { exportJWK, generateKeyPair, jwtVerify, SignJWT } from "jose";
import type { JwtRule } from "../xds/l7_policy_resources.ts";
import { JwksCache } from "./jwks_cache.ts";

const ISS = "https://issuer.example";
const key = async (kid: string) => {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: "ES256" } };
};
const k1 = await key("k1");
const k2 = await key("k2");
const sign = (k: { privateKey: CryptoKey }, kid: string) => new SignJWT({ sub: "a" }).setProtectedHeader({ alg: "ES256", kid }).setIssuer(ISS).setExpirationTime("1h").sign(k.privateKey);
const rule = (over: Partial<JwtRule> = {}): JwtRule => ({ issuer: ISS, audiences: [], jwksUri: `${ISS}/jwks`, fromHeaders: [], fromParams: [], fromCookies: [], outputClaimToHeaders: [], forwardOriginalToken: false, timeoutMs: 1000, ...over });

function issuer() {
  const s = { keys: [k1.jwk] as object[], down: false, calls: [] as string[] };
  const f = ((url: string) => {
    s.calls.push(String(url));
    if (s.down) return Promise.reject(new Error("connection refused"));
    if (String(url).endsWith("/.well-known/openid-configuration")) return Promise.resolve(Response.json({ issuer: ISS, jwks_uri: `${ISS}/discovered-jwks` }));
    return Promise.resolve(Response.json({ keys: s.keys }));
  }) as unknown as typeof fetch;
  return { s, f };
}

test("unknown kid refreshes at once, then not again within the cooldown", async () => {
  let now = 0;
  const { s, f } = issuer();
  const source = new JwksCache({ fetch: f, now: () => now, cooldownMs: 30_000 }).sourceFor(rule());
  await jwtVerify(await sign(k1, "k1"), source.getKey);
  expect(s.calls.length).toBe(1);
  s.keys = [k1.jwk, k2.jwk];
  await jwtVerify(await sign(k2, "k2"), source.getKey);
  expect(s.calls.length).toBe(2);
  await expect(jwtVerify(await sign(k2, "made-up"), source.getKey)).rejects.toThrow();
  expect(s.calls.length).toBe(2);
  now = 31_000;
  await expect(jwtVerify(await sign(k2, "made-up-2"), source.getKey)).rejects.toThrow();
  expect(s.calls.length).toBe(3);
});

test("issuer down: the last good keys keep verifying; old keys refresh in the background", async () => {
  let now = 0;
  const { s, f } = issuer();
  const errors: string[] = [];
  const source = new JwksCache({ fetch: f, now: () => now, maxAgeMs: 1000, onRefresh: (_s, e) => e && errors.push(e.message) }).sourceFor(rule());
  await jwtVerify(await sign(k1, "k1"), source.getKey);
  s.down = true;
  now = 5000;
  await jwtVerify(await sign(k1, "k1"), source.getKey);
  await source.refresh();
  expect(errors.length).toBeGreaterThan(0);
  expect(source.lastError).toBe("connection refused");
  await jwtVerify(await sign(k1, "k1"), source.getKey);
});

test("no keys ever fetched: verification fails; discovery finds jwks_uri; inline jwks never fetch", async () => {
  const { s, f } = issuer();
  s.down = true;
  const cache = new JwksCache({ fetch: f });
  await expect(jwtVerify(await sign(k1, "k1"), cache.sourceFor(rule()).getKey)).rejects.toThrow(/no keys/);
  s.down = false;
  s.calls.length = 0;
  await jwtVerify(await sign(k1, "k1"), cache.sourceFor(rule({ jwksUri: undefined })).getKey);
  expect(s.calls).toEqual([`${ISS}/.well-known/openid-configuration`, `${ISS}/discovered-jwks`]);
  s.calls.length = 0;
  await jwtVerify(await sign(k1, "k1"), cache.sourceFor(rule({ jwks: JSON.stringify({ keys: [k1.jwk] }) })).getKey);
  expect(s.calls).toEqual([]);
});

test("concurrent first requests share one fetch", async () => {
  const { s, f } = issuer();
  const source = new JwksCache({ fetch: f }).sourceFor(rule());
  const token = await sign(k1, "k1");
  await Promise.all(Array.from({ length: 10 }, () => jwtVerify(token, source.getKey)));
  expect(s.calls.length).toBe(1);
});
