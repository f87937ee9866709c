// The waypoint's L7 security filters, in Istio's order, ahead of routing:
// path normalization → authn (JWT) → CUSTOM (ext_authz) → DENY/ALLOW → rate limit.
// One key cache per waypoint, so JWKS survive config changes.
import type { MetricsRegistry } from "../telemetry/metrics.ts";
import type { Logger } from "../telemetry/mod.ts";
import { authorization } from "./filters/authorization.ts";
import { extAuthz } from "./filters/ext_authz.ts";
import { jwtAuthn } from "./filters/jwt.ts";
import { normalizeRequestPath } from "./filters/normalize_path.ts";
import { rateLimit } from "./filters/rate_limit.ts";
import { JwksCache } from "./jwks_cache.ts";
import type { Filter } from "./request_context.ts";
import { TokenBuckets } from "./token_bucket.ts";

/** The security filters, with their metrics registered on the waypoint's registry. */
export function securityFilters(deps: { readonly log: Logger; readonly registry: MetricsRegistry }): Filter[] {
  const { log, registry } = deps;
  const jwks = new JwksCache({
    onRefresh: (source, error) => error ? log.warn("authn", "JWKS fetch failed; keeping the last good keys", { source, error: error.message }) : log.debug("authn", "JWKS fetched", { source }),
  });
  const labels = ["decision", "policy", "destination_service"];
  const decisions = registry.counter("ambit_waypoint_authorization_decisions_total", "L7 authorization decisions, by decision and deciding policy", labels);
  const dryRuns = registry.counter("ambit_waypoint_authorization_dry_run_total", "What dry-run L7 policies would have decided", ["would", "policy", "destination_service"]);
  const limited = registry.counter("ambit_waypoint_rate_limited_total", "Requests answered 429 by a local rate limit", ["policy", "destination_service"]);
  const buckets = new TokenBuckets();
  return [normalizeRequestPath, jwtAuthn({ jwks, log }), extAuthz({ log }), authorization({ log, decisions, dryRuns }), rateLimit({ buckets, limited })];
}
