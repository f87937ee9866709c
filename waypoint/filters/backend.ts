// Filter: the weighted backend choice. Each backend of the rule gets
// weight/sum of the weights (0 gets nothing); a rule with no backends, or a
// pick that lands on an unresolved backend, answers 500 for that share.
import type { RouteBackend } from "../../xds/waypoint_resources.ts";
import { localReply } from "../local_reply.ts";
import type { Filter } from "../request_context.ts";

/** Picks the backend; its own filters join the chain's. */
export function backend(random: () => number = Math.random): Filter {
  return async (ctx, next) => {
    const chosen = pickBackend(ctx.route!.rule.backends, random);
    if (!chosen || chosen.backend.kind === "unresolved") {
      const reason = chosen?.backend.kind === "unresolved" ? chosen.backend.reason : "the rule has no backends";
      return localReply(ctx, 500, `backend unresolved: ${reason}`);
    }
    ctx.backend = chosen;
    ctx.filters.push(...chosen.filters);
    return next();
  };
}

/** A weighted pick (pure given `random`); undefined when every weight is 0 or there are none. */
export function pickBackend(backends: readonly RouteBackend[], random: () => number): RouteBackend | undefined {
  if (backends.length === 1) return backends[0]!.weight > 0 ? backends[0] : undefined;
  let total = 0;
  for (const b of backends) total += Math.max(0, b.weight);
  if (total === 0) return undefined;
  let r = random() * total;
  for (const b of backends) {
    if (b.weight <= 0) continue;
    if (r < b.weight) return b;
    r -= b.weight;
  }
  return backends.findLast((b) => b.weight > 0);
}
