// Filter: RequestAuthentication. An invalid token is 401 with WWW-Authenticate;
// no token passes unauthenticated (AuthorizationPolicy decides); a valid one
// sets the request principal, the output headers, and is removed before the
// request goes upstream unless forwardOriginalToken says keep it.
import type { Logger } from "../../telemetry/mod.ts";
import type { JwtRule } from "../../xds/l7_policy_resources.ts";
import type { JwksCache } from "../jwks_cache.ts";
import { claimValues } from "../l7_authorization.ts";
import { l7PolicyFor, setRequestAuth } from "../l7_context.ts";
import { localReply } from "../local_reply.ts";
import { authenticate, type TokenCarrier, type TokenLocation } from "../request_authentication.ts";
import type { Filter, HeaderMap, RequestContext } from "../request_context.ts";

const rulesByPolicy = new WeakMap<object, JwtRule[]>();

/** The JWT filter, over a key cache that outlives config changes. */
export function jwtAuthn(deps: { readonly jwks: JwksCache; readonly log?: Logger }): Filter {
  return async (ctx, next) => {
    const policy = l7PolicyFor(ctx.state, ctx.target.key);
    if (policy.requestAuthentications.length === 0) return next();
    let rules = rulesByPolicy.get(policy);
    if (!rules) rulesByPolicy.set(policy, (rules = policy.requestAuthentications.flatMap((r) => r.jwtRules)));
    const headers = ctx.upstream.headers;
    // Headers the waypoint writes from a verified token are never taken from the client.
    for (const r of rules) {
      if (r.outputPayloadToHeader) delete headers[r.outputPayloadToHeader.toLowerCase()];
      for (const o of r.outputClaimToHeaders) delete headers[o.header.toLowerCase()];
    }
    const outcome = await authenticate(rules, carrier(ctx), deps.jwks);
    if (outcome.kind === "invalid") {
      deps.log?.debug("authn", "request refused: invalid JWT", { id: ctx.id, service: ctx.target.key, reason: outcome.message });
      ctx.responseFlags.push("UAEX");
      const realm = `http://${ctx.upstream.authority}${ctx.upstream.path.split("?")[0]}`;
      return localReply(ctx, 401, outcome.message, { "www-authenticate": `Bearer realm="${realm.replace(/["\\]/g, "")}", error="invalid_token"` });
    }
    if (outcome.kind === "verified") {
      setRequestAuth(ctx, outcome.auth);
      const { rule } = outcome;
      if (rule.outputPayloadToHeader) headers[rule.outputPayloadToHeader.toLowerCase()] = outcome.payloadB64;
      for (const o of rule.outputClaimToHeaders) {
        const v = claimValues(outcome.auth.claims, o.claim.split("."));
        if (v.length > 0) headers[o.header.toLowerCase()] = v.join(",");
      }
      if (!rule.forwardOriginalToken) removeToken(ctx, outcome.location);
    }
    return next();
  };
}

function carrier(ctx: RequestContext): TokenCarrier {
  const headers = ctx.upstream.headers;
  const q = ctx.upstream.path.indexOf("?");
  const one = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  return {
    header: one,
    query: new URLSearchParams(q < 0 ? "" : ctx.upstream.path.slice(q + 1)),
    cookie: (name) => cookies(headers).get(name),
  };
}

function cookies(headers: HeaderMap): Map<string, string> {
  const raw = headers.cookie;
  const map = new Map<string, string>();
  for (const line of Array.isArray(raw) ? raw : raw ? [raw] : []) {
    for (const pair of line.split(";")) {
      const eq = pair.indexOf("=");
      if (eq > 0) map.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
  return map;
}

function removeToken(ctx: RequestContext, at: TokenLocation): void {
  const headers = ctx.upstream.headers;
  if (at.kind === "header") delete headers[at.name];
  else if (at.kind === "param") {
    const url = ctx.upstream.path;
    const q = url.indexOf("?");
    const params = new URLSearchParams(url.slice(q + 1));
    params.delete(at.name);
    const rest = params.toString();
    ctx.upstream.path = url.slice(0, q) + (rest ? `?${rest}` : "");
  } else {
    const raw = headers.cookie;
    const kept = (Array.isArray(raw) ? raw.join("; ") : raw ?? "").split(";").map((p) => p.trim()).filter((p) => p && !p.startsWith(`${at.name}=`));
    if (kept.length > 0) headers.cookie = kept.join("; ");
    else delete headers.cookie;
  }
}
