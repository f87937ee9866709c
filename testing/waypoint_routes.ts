// Builders for ServiceRoutes in tests: rules listed in precedence order, each
// with its matches, as the controlplane would hand them to a waypoint.
import type { RetryPolicy, RouteFilter, RouteMatch, ServiceRoutes, ValueMatch } from "../xds/waypoint_resources.ts";

/** A rule as a test writes it. */
export interface TestRule {
  readonly matches?: readonly Partial<RouteMatch>[];
  /** Backends as [service key, weight?, filters?]; a string alone has weight 1. */
  readonly backends?: readonly (string | { service?: string; unresolved?: string; port?: number; weight?: number; filters?: RouteFilter[] })[];
  readonly filters?: readonly RouteFilter[];
  readonly timeouts?: { requestMs?: number; backendRequestMs?: number };
  readonly retry?: RetryPolicy;
  readonly kind?: "HTTPRoute" | "GRPCRoute";
  readonly name?: string;
}

/** ServiceRoutes for `service` from rules in precedence order. */
export function serviceRoutes(service: string, rules: readonly TestRule[], port = 80): ServiceRoutes {
  return {
    service,
    waypoint: "default/waypoint",
    protocols: {},
    routes: rules.flatMap((r, i) => (r.matches ?? [{}]).map((m) => ({ match: { headers: [], queryParams: [], ...m }, rule: i }))),
    rules: rules.map((r, i) => ({
      route: { kind: r.kind ?? "HTTPRoute", namespace: "default", name: r.name ?? "route", rule: i },
      filters: [...(r.filters ?? [])],
      backends: (r.backends ?? []).map((b) => {
        const o = typeof b === "string" ? { service: b } : b;
        return {
          backend: o.unresolved !== undefined ? { kind: "unresolved" as const, reason: o.unresolved } : { kind: "service" as const, service: o.service!, port: o.port ?? port },
          weight: o.weight ?? 1,
          filters: o.filters ?? [],
        };
      }),
      timeouts: r.timeouts ?? {},
      retry: r.retry,
    })),
  };
}

/** An exact header match. */
export const header = (name: string, value: string, type: ValueMatch["type"] = "Exact"): ValueMatch => ({ type, name, value });
