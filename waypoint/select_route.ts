// The route decision, made once per request: the first entry of a Service's
// route table (already in Gateway API precedence order) whose match holds.
import type { PathMatch, RouteEntry, RouteMatch, RouteRule, ServiceRoutes, ValueMatch } from "../xds/waypoint_resources.ts";

/** What a route match reads of a request. */
export interface RouteRequest {
  readonly method: string;
  /** The path without the query string, as received. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** The Service port the tunnel named: entries bound to another port (a parentRef `port`) are skipped. */
  readonly port?: number;
  /** Header value by lower-case name (repeated headers joined with ","), or undefined. */
  header(name: string): string | undefined;
}

/** The chosen entry and its rule. */
export interface RouteSelection {
  readonly entry: RouteEntry;
  readonly rule: RouteRule;
}

/**
 * Picks the route for a request, or undefined (404). A Service with no route
 * table at all is handled by the caller (its default route).
 *
 * @example
 * ```ts
 * const chosen = selectRoute(routes, { method: "GET", path: "/v2", query: new URLSearchParams(), header: () => undefined });
 * ```
 */
export function selectRoute(routes: ServiceRoutes, request: RouteRequest): RouteSelection | undefined {
  for (const entry of routes.routes) {
    if (entry.port !== undefined && request.port !== undefined && entry.port !== request.port) continue;
    if (!matches(entry.match, request)) continue;
    const rule = routes.rules[entry.rule];
    if (rule) return { entry, rule };
  }
  return undefined;
}

/** True when every condition of one match holds. */
export function matches(match: RouteMatch, request: RouteRequest): boolean {
  if (match.path && !pathMatches(match.path, request.path)) return false;
  if (match.method && match.method !== request.method) return false;
  for (const h of match.headers) if (!valueMatches(h, request.header(h.name.toLowerCase()))) return false;
  for (const q of match.queryParams) if (!valueMatches(q, request.query.get(q.name) ?? undefined)) return false;
  return true;
}

/** Gateway API path matching; PathPrefix matches whole `/`-separated segments, a trailing `/` in the value is ignored. */
export function pathMatches(match: PathMatch, path: string): boolean {
  switch (match.type) {
    case "Exact":
      return path === match.value;
    case "PathPrefix": {
      const prefix = match.value.length > 1 && match.value.endsWith("/") ? match.value.slice(0, -1) : match.value;
      if (prefix === "/" || prefix === "") return path.startsWith("/");
      return path === prefix || (path.startsWith(prefix) && path[prefix.length] === "/");
    }
    case "RegularExpression":
      return fullMatch(match.value).test(path);
  }
}

function valueMatches(match: ValueMatch, value: string | undefined): boolean {
  if (value === undefined) return false;
  return match.type === "Exact" ? value === match.value : fullMatch(match.value).test(value);
}

// Regular expressions match the whole value (as Envoy's safe_regex does); compiled once each.
const compiled = new Map<string, RegExp>();
function fullMatch(source: string): RegExp {
  let re = compiled.get(source);
  if (!re) {
    try {
      re = new RegExp(`^(?:${source})$`, "u");
    } catch {
      re = /(?!)/; // an invalid expression matches nothing rather than everything
    }
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(source, re);
  }
  return re;
}
