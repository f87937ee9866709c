// JWT verification for the request path. jose checks signatures through Web
// Crypto, which in Bun costs ~80 µs for an RS256 token where node:crypto's
// verify costs ~15 µs (bench/results/waypoint_security.md); on Bun the
// signature is checked with node:crypto and everything else stays jose's: the
// key comes from the same key set, and the claims (iss, aud, exp, nbf, skew)
// are checked by jose's own claim validation, run over the verified payload.
// Headers jose gives meaning to that this path does not handle (crit, b64)
// take jose's full path. Deno's node:crypto is slower than its Web Crypto, so
// Deno always takes jose's path.
import { constants, KeyObject, verify, type VerifyKeyObjectInput, type VerifyPublicKeyInput } from "node:crypto";
import { decodeProtectedHeader, errors, type FlattenedJWSInput, type JWTHeaderParameters, type JWTPayload, jwtVerify, UnsecuredJWT } from "jose";

type GetKey = (header: JWTHeaderParameters, token: FlattenedJWSInput) => Promise<unknown>;

/** What a token must satisfy besides its signature. */
export interface JwtChecks {
  readonly issuer: string;
  readonly audience?: string[];
  readonly clockTolerance: number;
  readonly algorithms: readonly string[];
}

const NATIVE = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
const NONE_HEADER = Buffer.from('{"alg":"none"}').toString("base64url");

/** Verifies a compact JWT and returns its payload; throws jose's errors. */
export async function verifyJwt(token: string, getKey: GetKey, checks: JwtChecks): Promise<JWTPayload> {
  const options = { issuer: checks.issuer, audience: checks.audience, clockTolerance: checks.clockTolerance };
  if (!NATIVE) return (await jwtVerify(token, getKey as Parameters<typeof jwtVerify>[1], { ...options, algorithms: [...checks.algorithms] })).payload;
  const parts = token.split(".");
  if (parts.length !== 3) throw new errors.JWSInvalid("Invalid Compact JWS");
  const [protectedHeader, payload, signature] = parts as [string, string, string];
  const header = decodeProtectedHeader(token) as JWTHeaderParameters;
  if (header.crit !== undefined || header.b64 !== undefined) {
    return (await jwtVerify(token, getKey as Parameters<typeof jwtVerify>[1], { ...options, algorithms: [...checks.algorithms] })).payload;
  }
  const alg = header.alg;
  if (typeof alg !== "string" || !checks.algorithms.includes(alg)) throw new errors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed');
  const key = KeyObject.from(await getKey(header, { payload, signature, protected: protectedHeader }) as CryptoKey);
  const input = Buffer.from(`${protectedHeader}.${payload}`);
  const ok = verify(digestOf(alg), input, keyInput(alg, key), Buffer.from(signature, "base64url"));
  if (!ok) throw new errors.JWSSignatureVerificationFailed();
  // The signature holds; jose's claim checks run over the same payload bytes.
  return UnsecuredJWT.decode(`${NONE_HEADER}.${payload}.`, options).payload;
}

function digestOf(alg: string): string | null {
  if (alg === "EdDSA" || alg === "Ed25519") return null;
  return `sha${alg.slice(2)}`;
}

function keyInput(alg: string, key: KeyObject): VerifyKeyObjectInput | VerifyPublicKeyInput {
  const type = key.asymmetricKeyType;
  const family = alg.slice(0, 2);
  const fits = family === "RS" ? type === "rsa" : family === "PS" ? type === "rsa" || type === "rsa-pss" : family === "ES" ? type === "ec" : type === "ed25519";
  if (!fits || key.type !== "public") throw new errors.JWSSignatureVerificationFailed();
  if (family === "PS") return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
  if (family === "ES") return { key, dsaEncoding: "ieee-p1363" };
  return { key };
}
