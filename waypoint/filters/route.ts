// Filter 1: the route decision. The first matching entry of the Service's table
// wins; no match is 404. A Service with no routes attached gets its default
// route: the Service itself, on the port the tunnel named (Istio's waypoint).
import type { RouteRule } from "../../xds/waypoint_resources.ts";
import { localReply } from "../local_reply.ts";
import type { Filter, RequestContext } from "../request_context.ts";
import { type RouteRequest, selectRoute } from "../select_route.ts";

/** Selects the route and rule; answers 404 when none matches. */
export const route: Filter = async (ctx, next) => {
  const table = ctx.state.routesFor(ctx.target.key);
  if (!table || table.routes.length === 0) {
    const rule = defaultRule(ctx);
    ctx.route = { entry: { match: { headers: [], queryParams: [] }, rule: 0 }, rule };
    return next();
  }
  const chosen = selectRoute(table, routeRequest(ctx));
  if (!chosen) {
    ctx.responseFlags.push("NR");
    return localReply(ctx, 404, "no route matched");
  }
  ctx.route = chosen;
  ctx.filters.push(...chosen.rule.filters);
  return next();
};

/** What selectRoute reads of the request, from the downstream head. */
export function routeRequest(ctx: RequestContext): RouteRequest {
  const url = ctx.upstream.path;
  const q = url.indexOf("?");
  const headers = ctx.upstream.headers;
  return {
    method: ctx.upstream.method,
    path: q < 0 ? url : url.slice(0, q),
    query: new URLSearchParams(q < 0 ? "" : url.slice(q + 1)),
    port: ctx.target.port,
    header: (name) => {
      if (name === "host") return ctx.upstream.authority;
      const v = headers[name];
      return Array.isArray(v) ? v.join(",") : v;
    },
  };
}

const defaultRules = new WeakMap<object, Map<number, RouteRule>>();
function defaultRule(ctx: RequestContext): RouteRule {
  // Cached per state, so the default route is not rebuilt per request.
  let byPort = defaultRules.get(ctx.state);
  if (!byPort) defaultRules.set(ctx.state, (byPort = new Map()));
  let rule = byPort.get(ctx.target.port);
  if (!rule) {
    rule = {
      route: { kind: "HTTPRoute", namespace: ctx.target.service.namespace, name: "default", rule: 0 },
      filters: [],
      backends: [{ backend: { kind: "service", service: ctx.target.key, port: ctx.target.port }, weight: 1, filters: [] }],
      timeouts: {},
    };
    byPort.set(ctx.target.port, rule);
  }
  return rule;
}
