// Filter: the weighted backend choice. Each backend of the rule gets
// weight/sum of the weights (0 gets nothing), exactly over each cycle of
// picks; a rule with no backends, or a pick that lands on an unresolved
// backend, answers 500 for that share.
import type { RouteBackend } from "../../xds/waypoint_resources.ts";
import { WeightedDeal } from "../../config/weighted_deal.ts";
import { localReply } from "../local_reply.ts";
import type { Filter } from "../request_context.ts";

/** Picks the backend; its own filters join the chain's. */
export function backend(random: () => number = Math.random): Filter {
  const deals = new WeakMap<readonly RouteBackend[], WeightedDeal>();
  return async (ctx, next) => {
    const chosen = pickBackend(ctx.route!.rule.backends, deals, random);
    if (!chosen || chosen.backend.kind === "unresolved") {
      const reason = chosen?.backend.kind === "unresolved" ? chosen.backend.reason : "the rule has no backends";
      return localReply(ctx, 500, `backend unresolved: ${reason}`);
    }
    ctx.backend = chosen;
    ctx.filters.push(...chosen.filters);
    return next();
  };
}

/**
 * The weighted pick, dealt per rule (config/weighted_deal.ts: each cycle of
 * picks holds every share exactly); undefined when every weight is 0 or there
 * are none. A new config brings new rule objects, so their deals start afresh.
 */
export function pickBackend(
  backends: readonly RouteBackend[],
  deals: WeakMap<readonly RouteBackend[], WeightedDeal>,
  random: () => number,
): RouteBackend | undefined {
  if (backends.length === 1) return backends[0]!.weight > 0 ? backends[0] : undefined;
  let deal = deals.get(backends);
  if (!deal) deals.set(backends, (deal = new WeightedDeal(backends.map((b) => b.weight), random)));
  const i = deal.next();
  return i === undefined ? undefined : backends[i];
}
