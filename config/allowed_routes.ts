/**
 * Gateway API `listeners[].allowedRoutes` as a waypoint applies it to the routes
 * of the Services it serves: `namespaces.from` Same (the default), All or
 * Selector, and `kinds` when listed. Shared by the controlplane (which enforces
 * it) and `ambit analyze` (which warns before it is applied).
 *
 * @example
 * ```ts
 * const refusal = routeRefusedByListeners(gateway, { kind: "HTTPRoute", namespace: "shop", name: "r" }, (ns) => labels[ns] ?? {});
 * ```
 * @module
 */
import type { KubeObject } from "./objects.ts";

type Labels = Readonly<Record<string, string>>;
type Json = Readonly<Record<string, unknown>>;
const GATEWAY_GROUP = "gateway.networking.k8s.io";
const rec = (v: unknown): Json => (v && typeof v === "object" && !Array.isArray(v) ? v as Json : {});
const arr = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Kubernetes LabelSelector semantics (matchLabels and matchExpressions, ANDed); an empty selector selects everything. */
export function labelSelectorMatches(selector: Json, labels: Labels): boolean {
  const match = rec(selector.matchLabels);
  if (Object.entries(match).some(([k, v]) => labels[k] !== v)) return false;
  return arr(selector.matchExpressions).map(rec).every((e) => {
    const key = str(e.key) ?? "";
    const values = arr(e.values).map(str);
    switch (e.operator) {
      case "In": return key in labels && values.includes(labels[key]);
      case "NotIn": return !(key in labels) || !values.includes(labels[key]);
      case "Exists": return key in labels;
      case "DoesNotExist": return !(key in labels);
      default: return false;
    }
  });
}

/** Why no listener of the waypoint Gateway admits the route, or undefined when one does. */
export function routeRefusedByListeners(
  gateway: KubeObject,
  route: { readonly kind: string; readonly namespace: string; readonly name: string },
  namespaceLabels: (namespace: string) => Labels,
): string | undefined {
  const gwNs = gateway.metadata.namespace ?? "";
  const refusals: string[] = [];
  for (const l of arr(rec(gateway.spec).listeners).map(rec)) {
    const allowed = rec(l.allowedRoutes);
    const from = str(rec(allowed.namespaces).from) ?? "Same";
    const kinds = arr(allowed.kinds).map(rec);
    const kindOk = kinds.length === 0 || kinds.some((k) => (str(k.group) ?? GATEWAY_GROUP) === GATEWAY_GROUP && k.kind === route.kind);
    const nsOk = from === "All" || (from === "Same" && route.namespace === gwNs) ||
      (from === "Selector" && labelSelectorMatches(rec(rec(allowed.namespaces).selector), namespaceLabels(route.namespace)));
    if (kindOk && nsOk) return undefined;
    refusals.push(!kindOk
      ? `listener ${str(l.name)} allows kinds ${kinds.map((k) => str(k.kind)).join(", ")}`
      : `listener ${str(l.name)} allows routes from ${from === "Same" ? `namespace ${gwNs} only` : "namespaces matching its selector"}`);
  }
  return `waypoint ${gwNs}/${gateway.metadata.name} refuses ${route.kind} ${route.namespace}/${route.name}: ${refusals.join("; ") || "it has no listeners"}`;
}
