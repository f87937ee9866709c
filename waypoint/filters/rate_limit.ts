// Filter: local rate limits (Envoy Gateway's BackendTrafficPolicy `rateLimit:
// {type: Local}`), per waypoint replica. Each rule counts requests per distinct
// key — the caller's mTLS identity, its JWT principal, a header, or all
// together — and a request must fit every rule. Limited → 429
// `local_rate_limited` with x-ratelimit-limit / -remaining / -reset, counted in
// ambit_waypoint_rate_limited_total; allowed responses carry the headers too.
import { createHash } from "node:crypto";
import type { Metric } from "../../telemetry/metrics.ts";
import { formatSpiffeId } from "../../identity/mod.ts";
import type { RateLimitRule } from "../../xds/l7_policy_resources.ts";
import { l7PolicyFor, requestAuthOf } from "../l7_context.ts";
import { localReply } from "../local_reply.ts";
import type { Filter, RequestContext } from "../request_context.ts";
import type { BucketAnswer, TokenBuckets } from "../token_bucket.ts";

/** The value a rule counts this request under; undefined when the request has none (then the rule does not apply). */
function keyOf(ctx: RequestContext, rule: RateLimitRule): string | undefined {
  switch (rule.key.type) {
    case "None": return "";
    case "SourceIdentity": return formatSpiffeId(ctx.tunnel.peerIdentity);
    case "RequestPrincipal": return requestAuthOf(ctx)?.principal;
    case "Header": {
      const v = ctx.upstream.headers[rule.key.name.toLowerCase()];
      return Array.isArray(v) ? v.join(",") : v;
    }
  }
}

function headersOf(a: BucketAnswer, rule: RateLimitRule): Record<string, string> {
  return { "x-ratelimit-limit": `${a.limit}, ${a.limit};w=${rule.unitSeconds}`, "x-ratelimit-remaining": String(a.remaining), "x-ratelimit-reset": String(a.resetSeconds) };
}

/** The rate-limit filter over the waypoint's buckets. */
export function rateLimit(deps: { readonly buckets: TokenBuckets; readonly limited?: Metric }): Filter {
  return (ctx, next) => {
    const limits = l7PolicyFor(ctx.state, ctx.target.key).rateLimits;
    if (limits.length === 0) return next();
    let tightest: { answer: BucketAnswer; rule: RateLimitRule } | undefined;
    for (const policy of limits) {
      policy.rules.forEach((rule, i) => {
        const raw = keyOf(ctx, rule);
        if (raw === undefined) return;
        // Long client-chosen values are hashed, so 100,000 buckets stay small.
        const key = raw.length > 128 ? createHash("sha256").update(raw).digest("base64url") : raw;
        const bucket = `${ctx.target.key}|${policy.namespace}/${policy.name}|${i}|${rule.requests}/${rule.unitSeconds}|${key}`;
        const answer = deps.buckets.take(bucket, rule);
        if (!tightest || (!answer.allowed && tightest.answer.allowed) || (answer.allowed === tightest.answer.allowed && answer.remaining < tightest.answer.remaining)) {
          tightest = { answer, rule };
        }
        if (!answer.allowed) deps.limited?.inc({ policy: `${policy.namespace}/${policy.name}`, destination_service: ctx.target.key });
      });
    }
    if (!tightest) return next();
    const headers = headersOf(tightest.answer, tightest.rule);
    if (!tightest.answer.allowed) {
      ctx.responseFlags.push("RL");
      localReply(ctx, 429, "local_rate_limited", headers);
      return Promise.resolve();
    }
    ctx.responseHeaderModifiers.push({ set: Object.entries(headers).map(([name, value]) => ({ name, value })), add: [], remove: [] });
    return next();
  };
}
