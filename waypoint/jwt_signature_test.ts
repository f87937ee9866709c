// verifyJwt (node:crypto signatures on Bun) must agree with jose's jwtVerify on
// every input: each row is run through both, and the outcomes compared.
import { expect, test } from "bun:test";
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from "jose";
import { verifyJwt } from "./jwt_signature.ts";

const ALGS = ["RS256", "RS512", "PS256", "ES256", "ES384", "EdDSA"];
const keys = await Promise.all(ALGS.map(async (alg) => {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid: alg, alg } };
}));
const other = await generateKeyPair("ES256");
const set = createLocalJWKSet({ keys: keys.map((k) => k.jwk) });
const checks = { issuer: "https://iss", audience: ["api"], clockTolerance: 60, algorithms: ALGS };
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
const sign = (k: (typeof keys)[number], claims: Record<string, unknown> = {}) =>
  new SignJWT({ aud: "api", sub: "a", ...claims }).setProtectedHeader({ alg: k.alg, kid: k.alg }).setIssuer("https://iss").setExpirationTime("1h").sign(k.privateKey);
const outcome = (p: Promise<unknown>) => p.then(() => "ok", (e: { code?: string }) => e.code ?? "error");

test("verifyJwt agrees with jose's jwtVerify", async () => {
  const rows: [string, string][] = [];
  for (const k of keys) {
    const good = await sign(k);
    const [h, p, s] = good.split(".");
    rows.push([`${k.alg} valid`, good]);
    rows.push([`${k.alg} payload changed`, `${h}.${b64({ aud: "api", sub: "root", iss: "https://iss", exp: 9e9 })}.${s}`]);
    rows.push([`${k.alg} signature cut`, `${h}.${p}.${s!.slice(0, -4)}`]);
    rows.push([`${k.alg} expired`, await sign(k, { exp: Math.floor(Date.now() / 1000) - 3600 })]);
    rows.push([`${k.alg} wrong audience`, await sign(k, { aud: "other" })]);
    rows.push([`${k.alg} wrong issuer`, await sign(k, { iss: "https://elsewhere" })]);
  }
  const es = keys.find((k) => k.alg === "ES256")!;
  rows.push(["signed by another key under a known kid", await new SignJWT({ aud: "api" }).setProtectedHeader({ alg: "ES256", kid: "ES256" }).setIssuer("https://iss").sign(other.privateKey)]);
  rows.push(["alg none", `${b64({ alg: "none", kid: "ES256" })}.${b64({ iss: "https://iss", aud: "api" })}.`]);
  rows.push(["header alg RS256 over the EC key's kid", `${b64({ alg: "RS256", kid: "ES256" })}.${(await sign(es)).split(".").slice(1).join(".")}`]);
  rows.push(["crit header", `${b64({ alg: "ES256", kid: "ES256", crit: ["x"], x: 1 })}.${(await sign(es)).split(".").slice(1).join(".")}`]);
  rows.push(["not three parts", "a.b"]);
  rows.push(["payload not JSON", `${(await sign(es)).split(".")[0]}.${Buffer.from("nope").toString("base64url")}.sig`]);
  for (const [label, token] of rows) {
    const ours = await outcome(verifyJwt(token, set as never, checks));
    const theirs = await outcome(jwtVerify(token, set, { ...checks, algorithms: ALGS }));
    expect(ours === "ok", label).toBe(theirs === "ok");
  }
  expect(rows.filter(([l]) => l.endsWith(" valid")).length).toBe(ALGS.length);
  expect(await outcome(verifyJwt(await sign(es), set as never, checks))).toBe("ok");
});
