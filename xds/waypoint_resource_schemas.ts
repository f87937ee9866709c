// Schemas for the waypoint resources (waypoint_resources.ts) as they arrive
// over xDS or from a waypoint's local file: a waypoint checks each one and
// NACKs, by name, what it cannot apply.
import { z } from "zod";
import type { ServiceRoutes } from "./waypoint_resources.ts";

// The type URL of ServiceRoutes on the delta-xDS stream lives with the others (not in TYPE_URLS: a ztunnel never subscribes to it).
export { SERVICE_ROUTES_TYPE_URL } from "./protocol.ts";

const port = z.number().int().min(1).max(65535);
const valueMatch = z.object({ type: z.enum(["Exact", "RegularExpression"]), name: z.string().min(1), value: z.string() });
const pathMatch = z.object({ type: z.enum(["Exact", "PathPrefix", "RegularExpression"]), value: z.string() });
const routeMatch = z.object({ path: pathMatch.optional(), method: z.string().optional(), headers: z.array(valueMatch), queryParams: z.array(valueMatch) });
const header = z.object({ name: z.string().min(1), value: z.string() });
const headerModifier = z.object({ set: z.array(header), add: z.array(header), remove: z.array(z.string()) });
const pathModifier = z.union([
  z.object({ type: z.literal("ReplaceFullPath"), replaceFullPath: z.string() }),
  z.object({ type: z.literal("ReplacePrefixMatch"), replacePrefixMatch: z.string() }),
]);
const resolvedBackend = z.union([
  z.object({ kind: z.literal("service"), service: z.string().min(1), port }),
  z.object({ kind: z.literal("unresolved"), reason: z.string() }),
]);
const filter = z.union([
  z.object({ type: z.literal("RequestHeaderModifier"), requestHeaderModifier: headerModifier }),
  z.object({ type: z.literal("ResponseHeaderModifier"), responseHeaderModifier: headerModifier }),
  z.object({
    type: z.literal("RequestRedirect"),
    requestRedirect: z.object({
      scheme: z.string().optional(),
      hostname: z.string().optional(),
      port: port.optional(),
      path: pathModifier.optional(),
      statusCode: z.union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)]),
    }),
  }),
  z.object({ type: z.literal("URLRewrite"), urlRewrite: z.object({ hostname: z.string().optional(), path: pathModifier.optional() }) }),
  z.object({ type: z.literal("RequestMirror"), requestMirror: z.object({ backend: resolvedBackend, percent: z.number().min(0).max(100) }) }),
]);
const rule = z.object({
  route: z.object({ kind: z.enum(["HTTPRoute", "GRPCRoute"]), namespace: z.string(), name: z.string(), rule: z.union([z.number(), z.string()]) }),
  filters: z.array(filter),
  backends: z.array(z.object({ backend: resolvedBackend, weight: z.number().int().min(0), filters: z.array(filter) })),
  timeouts: z.object({ requestMs: z.number().min(0).optional(), backendRequestMs: z.number().min(0).optional() }),
  retry: z.object({ codes: z.array(z.number().int().min(100).max(599)), attempts: z.number().int().min(0).max(100), backoffMs: z.number().min(0) }).optional(),
});

/** A ServiceRoutes resource, with each route entry's rule index checked. */
export const serviceRoutesSchema: z.ZodType<ServiceRoutes> = z.object({
  service: z.string().regex(/^[^/]+\/[^/]+$/, "must be namespace/hostname"),
  waypoint: z.string().regex(/^[^/]+\/[^/]+$/, "must be namespace/name"),
  protocols: z.record(z.string().regex(/^\d+$/, "port must be a number"), z.enum(["HTTP", "HTTP2", "GRPC", "TCP"])),
  routes: z.array(z.object({ match: routeMatch, rule: z.number().int().min(0), port: port.optional() })),
  rules: z.array(rule),
}).superRefine((r, ctx) => {
  r.routes.forEach((e, i) => {
    if (e.rule >= r.rules.length) ctx.addIssue({ code: "custom", path: ["routes", i, "rule"], message: `no rule ${e.rule} (there are ${r.rules.length})` });
  });
  r.routes.forEach((e, i) => {
    for (const v of [e.match.path?.type === "RegularExpression" ? e.match.path.value : undefined, ...[...e.match.headers, ...e.match.queryParams].filter((m) => m.type === "RegularExpression").map((m) => m.value)]) {
      if (v === undefined) continue;
      try {
        new RegExp(v, "u");
      } catch {
        ctx.addIssue({ code: "custom", path: ["routes", i, "match"], message: `invalid regular expression ${JSON.stringify(v)}` });
      }
    }
  });
}) as unknown as z.ZodType<ServiceRoutes>;
