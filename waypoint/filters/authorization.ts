// Filter: AuthorizationPolicy DENY / ALLOW (CUSTOM ran before, in ext_authz).
// Denied → 403 `RBAC: access denied`, as Envoy answers. AUDIT matches and
// dry-run outcomes are logged; every enforced decision is counted.
import type { Metric } from "../../telemetry/metrics.ts";
import type { Logger } from "../../telemetry/mod.ts";
import { authorizeRequest } from "../l7_authorization.ts";
import { l7PolicyFor, requestFacts } from "../l7_context.ts";
import { localReply } from "../local_reply.ts";
import type { Filter } from "../request_context.ts";

/** The authorization filter. */
export function authorization(deps: { readonly log?: Logger; readonly decisions?: Metric; readonly dryRuns?: Metric }): Filter {
  return (ctx, next) => {
    const policies = l7PolicyFor(ctx.state, ctx.target.key).authorizations;
    if (policies.length === 0) return next();
    const d = authorizeRequest(policies, requestFacts(ctx));
    const service = ctx.target.key;
    for (const policy of d.audit) deps.log?.info("authz", "audit", { id: ctx.id, policy, service, method: ctx.upstream.method, path: ctx.upstream.path });
    if (d.dryRun) {
      deps.log?.info("authz", `dry-run: would ${d.dryRun.wouldAllow ? "allow" : "deny"}`, { id: ctx.id, policy: d.dryRun.policy ?? "none", service });
      deps.dryRuns?.inc({ would: d.dryRun.wouldAllow ? "allow" : "deny", policy: d.dryRun.policy ?? "none", destination_service: service });
    }
    deps.decisions?.inc({ decision: d.allowed ? "allow" : "deny", policy: d.policy ?? "none", destination_service: service });
    if (d.allowed) return next();
    deps.log?.info("authz", "request denied", { id: ctx.id, policy: d.policy ?? "none", reason: d.reason, service, method: ctx.upstream.method, path: ctx.upstream.path });
    ctx.responseFlags.push("RBAC");
    localReply(ctx, 403, "RBAC: access denied");
    return Promise.resolve();
  };
}
