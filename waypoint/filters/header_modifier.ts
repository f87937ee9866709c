// Filter: RequestHeaderModifier (applied to the upstream head here) and
// ResponseHeaderModifier (queued for the router to apply to the response head).
// Names are case-insensitive; set replaces, add appends, remove deletes.
import type { HeaderModifier } from "../../xds/waypoint_resources.ts";
import type { Filter, HeaderMap } from "../request_context.ts";

/** Applies the rule's (and, after `backend`, the backend's) header modifiers. */
export function headerModifier(): Filter {
  return async (ctx, next) => {
    for (const f of ctx.filters) {
      if (f.type === "RequestHeaderModifier") applyHeaderModifier(ctx.upstream.headers, f.requestHeaderModifier);
      if (f.type === "ResponseHeaderModifier") ctx.responseHeaderModifiers.push(f.responseHeaderModifier);
    }
    return next();
  };
}

/** Applies one modifier to a header map in place (Gateway API order: set, add, remove). */
export function applyHeaderModifier(headers: HeaderMap, m: HeaderModifier): void {
  for (const { name, value } of m.set) headers[name.toLowerCase()] = value;
  for (const { name, value } of m.add) {
    const key = name.toLowerCase();
    const old = headers[key];
    // Appended as Envoy does for add: one header, values comma-joined.
    headers[key] = old === undefined ? value : `${Array.isArray(old) ? old.join(",") : old},${value}`;
  }
  for (const name of m.remove) delete headers[name.toLowerCase()];
}
