// RequestAuthentication as Envoy's jwt_authn filter does it under Istio
// (requires_any of the rules, allow_missing): a request with no token passes
// unauthenticated; a token that is present must verify against the rule whose
// issuer it names, else 401. Which rule verifies a token is chosen by the
// unverified `iss` among the rules that look where the token was found.
import { decodeJwt, errors } from "jose";
import type { JwtRule } from "../xds/l7_policy_resources.ts";
import type { JwksCache } from "./jwks_cache.ts";
import { verifyJwt } from "./jwt_signature.ts";
import type { RequestAuth } from "./l7_authorization.ts";

/** Where a token was found, so it can be removed before the request goes upstream. */
export type TokenLocation =
  | { readonly kind: "header"; readonly name: string; readonly prefix: string }
  | { readonly kind: "param"; readonly name: string }
  | { readonly kind: "cookie"; readonly name: string };

/** What the request offers: header by lower-case name, query, cookies. */
export interface TokenCarrier {
  header(name: string): string | undefined;
  readonly query: URLSearchParams;
  cookie(name: string): string | undefined;
}

export type AuthenticationOutcome =
  | { readonly kind: "none" }
  | { readonly kind: "verified"; readonly auth: RequestAuth; readonly rule: JwtRule; readonly location: TokenLocation; readonly token: string; readonly payloadB64: string }
  | { readonly kind: "invalid"; readonly message: string };

/** Asymmetric algorithms only: a symmetric (`oct`) key in a JWKS would let anyone who read it sign (jose's key sets hold none either). */
const ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"];

const DEFAULT_LOCATION: TokenLocation = { kind: "header", name: "authorization", prefix: "Bearer " };

/** The places a rule looks, in its order; none given means `Authorization: Bearer`. */
export function locationsOf(rule: JwtRule): TokenLocation[] {
  const list: TokenLocation[] = [
    ...rule.fromHeaders.map((h): TokenLocation => ({ kind: "header", name: h.name.toLowerCase(), prefix: h.prefix ?? "" })),
    ...rule.fromParams.map((name): TokenLocation => ({ kind: "param", name })),
    ...rule.fromCookies.map((name): TokenLocation => ({ kind: "cookie", name })),
  ];
  return list.length > 0 ? list : [DEFAULT_LOCATION];
}

function extract(carrier: TokenCarrier, at: TokenLocation): string | undefined {
  if (at.kind === "param") return carrier.query.get(at.name) ?? undefined;
  if (at.kind === "cookie") return carrier.cookie(at.name);
  const v = carrier.header(at.name);
  if (v === undefined) return undefined;
  if (!at.prefix) return v.trim();
  // The scheme of `Authorization: Bearer` is case-insensitive (RFC 6750); a custom prefix is exact.
  const head = v.slice(0, at.prefix.length);
  const same = at.name === "authorization" ? head.toLowerCase() === at.prefix.toLowerCase() : head === at.prefix;
  return same ? v.slice(at.prefix.length).trim() : undefined;
}

const sameLocation = (a: TokenLocation, b: TokenLocation) => a.kind === b.kind && a.name === b.name && (a.kind !== "header" || a.prefix === (b as typeof a).prefix);

/** Finds and verifies the request's token; `none` when it carries none a rule looks for. */
export async function authenticate(rules: readonly JwtRule[], carrier: TokenCarrier, jwks: JwksCache): Promise<AuthenticationOutcome> {
  const seen: TokenLocation[] = [];
  for (const rule of rules) {
    for (const at of locationsOf(rule)) {
      if (seen.some((s) => sameLocation(s, at))) continue;
      seen.push(at);
      const token = extract(carrier, at);
      if (token === undefined || token === "") continue;
      let iss: string | undefined;
      try {
        iss = decodeJwt(token).iss;
      } catch {
        return { kind: "invalid", message: "Jwt is not in the form of Header.Payload.Signature" };
      }
      const candidates = rules.filter((r) => r.issuer === iss && locationsOf(r).some((l) => sameLocation(l, at)));
      if (candidates.length === 0) return { kind: "invalid", message: "Jwt issuer is not configured" };
      return await verifyWith(candidates[0]!, token, at, jwks);
    }
  }
  return { kind: "none" };
}

/**
 * Verified tokens, per rule object (rules are immutable per config state, so a changed rule starts empty): a
 * client sending the same token again costs a lookup, not a signature check — Envoy's jwt_cache_config does the same. An
 * entry is used only until the token's exp (plus the skew); at most 1,000 per rule, the oldest dropped first.
 */
const verified = new WeakMap<JwtRule, Map<string, { readonly auth: RequestAuth; readonly payloadB64: string; readonly untilMs: number }>>();
const CACHE_PER_RULE = 1000;
const SKEW_SECONDS = 60;

async function verifyWith(rule: JwtRule, token: string, location: TokenLocation, jwks: JwksCache): Promise<AuthenticationOutcome> {
  let cache = verified.get(rule);
  const hit = cache?.get(token);
  if (hit && Date.now() < hit.untilMs) return { kind: "verified", auth: hit.auth, rule, location, token, payloadB64: hit.payloadB64 };
  if (hit) cache!.delete(token);
  try {
    const payload = await verifyJwt(token, jwks.sourceFor(rule).getKey, {
      issuer: rule.issuer,
      audience: rule.audiences.length > 0 ? [...rule.audiences] : undefined,
      // Envoy's default clock skew.
      clockTolerance: SKEW_SECONDS,
      algorithms: ASYMMETRIC,
    });
    const audiences = typeof payload.aud === "string" ? [payload.aud] : payload.aud ?? [];
    const auth: RequestAuth = {
      principal: `${payload.iss}/${payload.sub ?? ""}`,
      audiences,
      presenter: typeof payload.azp === "string" ? payload.azp : undefined,
      claims: payload,
    };
    const payloadB64 = token.split(".")[1]!;
    if (!cache) verified.set(rule, (cache = new Map()));
    if (cache.size >= CACHE_PER_RULE) cache.delete(cache.keys().next().value!);
    cache.set(token, { auth, payloadB64, untilMs: typeof payload.exp === "number" ? (payload.exp + SKEW_SECONDS) * 1000 : Date.now() + 300_000 });
    return { kind: "verified", auth, rule, location, token, payloadB64 };
  } catch (e) {
    return { kind: "invalid", message: messageFor(e as Error) };
  }
}

/** Envoy's jwt_authn wording, so clients and docs see the usual messages. */
function messageFor(e: Error): string {
  if (e instanceof errors.JWTExpired) return "Jwt is expired";
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === "aud") return "Audiences in Jwt are not allowed";
    if (e.claim === "iss") return "Jwt issuer is not configured";
    if (e.claim === "nbf") return "Jwt not yet valid";
    return `Jwt verification fails: ${e.claim} claim`;
  }
  if (e instanceof errors.JWKSNoMatchingKey) return "Jwks doesn't have key to match kid or alg from Jwt";
  if (e instanceof errors.JWSSignatureVerificationFailed) return "Jwt verification fails";
  if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid) return "Jwt is not in the form of Header.Payload.Signature";
  if (/no keys for/.test(e.message)) return "Jwks remote fetch is failed";
  return "Jwt verification fails";
}
