// gateway.networking.k8s.io GRPCRoute: gRPC routing at a waypoint (parentRefs a
// Service). Matches name a gRPC service and method instead of a path.
import { z } from "zod";
import { checkUnique, dnsSubdomain } from "./_common.ts";
import { anyStatus, envelope } from "./_meta.ts";
import { gatewayHostname } from "./gateway.ts";
import { BackendRefSchema, ParentRefSchema } from "./http_route.ts";
import { checkFilterList, checkParentRefs, GRPC_FILTER_MEMBERS } from "./_gateway_api_rules.ts";

const headerMatch = z.strictObject({
  type: z.enum(["Exact", "RegularExpression"]).optional(),
  name: z.string().min(1).max(256).regex(/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/, "must be a header name (an RFC 7230 token)"),
  value: z.string().min(1).max(4096),
});

/** `rules[].matches[].method`: a gRPC service and/or method; Exact needs at least one of them. */
export const GRPCMethodMatchSchema = z.strictObject({
  type: z.enum(["Exact", "RegularExpression"]).optional(),
  service: z.string().min(1).max(1024).optional(),
  method: z.string().min(1).max(1024).optional(),
}).superRefine((m, ctx) => {
  if (m.service === undefined && m.method === undefined) ctx.addIssue({ code: "custom", path: [], message: "must set service, method or both" });
  if ((m.type ?? "Exact") !== "Exact") return;
  if (m.service !== undefined && !/^\.?[A-Za-z_][A-Za-z_0-9]*(\.[A-Za-z_][A-Za-z_0-9]*)*$/.test(m.service)) {
    ctx.addIssue({ code: "custom", path: ["service"], message: "must be a fully-qualified gRPC service name such as \"pkg.Greeter\"" });
  }
  if (m.method !== undefined && !/^[A-Za-z_][A-Za-z_0-9]*$/.test(m.method)) {
    ctx.addIssue({ code: "custom", path: ["method"], message: "must be a gRPC method name such as \"SayHello\"" });
  }
});

/** `rules[].matches[]`: method and headers (ANDed). */
export const GRPCRouteMatchSchema = z.strictObject({
  method: GRPCMethodMatchSchema.optional(),
  headers: z.array(headerMatch).max(16).optional(),
}).superRefine((m, ctx) => checkUnique(m.headers, (h) => h.name, ctx, ["headers"], "header match name"));

/** A GRPCRoute backendRef: its own filters follow the rule's filter rules. */
const GRPCBackendRefSchema = BackendRefSchema.superRefine((ref, ctx) => checkFilterList(ref.filters, GRPC_FILTER_MEMBERS, ctx, ["filters"]));

/** One GRPCRoute rule; `filters` are stored as written and checked by translation. */
export const GRPCRouteRuleSchema = z.strictObject({
  name: dnsSubdomain.optional(),
  matches: z.array(GRPCRouteMatchSchema).max(8).optional(),
  filters: z.array(z.looseObject({ type: z.string().min(1) })).max(16).optional(),
  backendRefs: z.array(GRPCBackendRefSchema).max(16).optional(),
  sessionPersistence: z.record(z.string(), z.unknown()).optional(),
}).superRefine((rule, ctx) => checkFilterList(rule.filters, GRPC_FILTER_MEMBERS, ctx, ["filters"]));

/** GRPCRoute `spec`. */
export const GRPCRouteSpecSchema = z.strictObject({
  parentRefs: z.array(ParentRefSchema).max(32).optional(),
  hostnames: z.array(gatewayHostname).max(16).optional(),
  rules: z.array(GRPCRouteRuleSchema).max(16).optional(),
}).superRefine((spec, ctx) => {
  checkUnique(spec.rules, (r) => r.name, ctx, ["rules"], "rule name");
  checkParentRefs(spec.parentRefs, ctx);
});

/** apiVersions served for GRPCRoute, newest first (it went from v1alpha2 straight to v1). */
export const GRPC_ROUTE_VERSIONS = ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1alpha2"] as const;

/** A whole Gateway API GRPCRoute object. */
export const GRPCRouteSchema = z.strictObject({
  ...envelope(GRPC_ROUTE_VERSIONS, "GRPCRoute", { namespaced: true }),
  spec: GRPCRouteSpecSchema,
  status: anyStatus,
});

/** A Gateway API GRPCRoute as Ambit stores it. */
export type GRPCRoute = z.output<typeof GRPCRouteSchema>;
