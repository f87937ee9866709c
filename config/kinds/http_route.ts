// gateway.networking.k8s.io HTTPRoute: L7 routing at a waypoint (parentRefs a
// Service) or at an ingress Gateway. Filters are stored as written.
import { z } from "zod";
import { checkUnique, dnsSubdomain, port } from "./_common.ts";
import { checkFilterList, checkHttpRouteRule, checkParentRefs, checkPathMatch, checkTimeouts, checkTotalMatches, HTTP_FILTER_MEMBERS } from "./_gateway_api_rules.ts";
import { anyStatus, envelope } from "./_meta.ts";
import { GATEWAY_API_VERSIONS, gatewayDuration, gatewayHostname } from "./gateway.ts";

/** `spec.parentRefs[]`: a Gateway, or a Service for a waypoint route. */
export const ParentRefSchema = z.strictObject({
  group: z.string().optional(),
  kind: z.string().optional(),
  namespace: z.string().optional(),
  name: z.string().min(1),
  sectionName: dnsSubdomain.optional(),
  port: port.optional(),
});

const filter = z.looseObject({ type: z.string().min(1) });

/** `rules[].backendRefs[]`: where matching requests go, with a weight. */
export const BackendRefSchema = z.strictObject({
  group: z.string().optional(),
  kind: z.string().optional(),
  name: z.string().min(1),
  namespace: z.string().optional(),
  port: port.optional(),
  weight: z.number().int().min(0).max(1_000_000).optional(),
  filters: z.array(filter).optional(),
}).superRefine((ref, ctx) => {
  if ((ref.group ?? "") === "" && (ref.kind ?? "Service") === "Service" && ref.port === undefined) {
    ctx.addIssue({ code: "custom", path: ["port"], message: "required for a Service backend" });
  }
});

/** An HTTPRoute rule's backendRef: its own filters follow the rule's filter rules. */
const HTTPBackendRefSchema = BackendRefSchema.superRefine((ref, ctx) => checkFilterList(ref.filters, HTTP_FILTER_MEMBERS, ctx, ["filters"]));

const headerName = z.string().min(1).max(256).regex(/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/, "must be an HTTP header name (an RFC 7230 token)");
const headerMatch = z.strictObject({ type: z.enum(["Exact", "RegularExpression"]).optional(), name: headerName, value: z.string().min(1).max(4096) });
const queryParamMatch = z.strictObject({ type: z.enum(["Exact", "RegularExpression"]).optional(), name: headerName, value: z.string().min(1).max(1024) });

/** `rules[].matches[]`: path, headers, query parameters, method (ANDed). */
export const HTTPRouteMatchSchema = z.strictObject({
  path: z.strictObject({ type: z.enum(["Exact", "PathPrefix", "RegularExpression"]).optional(), value: z.string().max(1024).optional() })
    .superRefine(checkPathMatch).optional(),
  headers: z.array(headerMatch).max(16).optional(),
  queryParams: z.array(queryParamMatch).max(16).optional(),
  method: z.enum(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]).optional(),
}).superRefine((m, ctx) => {
  // listType=map keyed by name: a header or query parameter is matched once.
  checkUnique(m.headers, (h) => h.name, ctx, ["headers"], "header match name");
  checkUnique(m.queryParams, (q) => q.name, ctx, ["queryParams"], "query parameter match name");
});

/** One HTTPRoute rule; `filters` are stored as written. */
export const HTTPRouteRuleSchema = z.strictObject({
  name: dnsSubdomain.optional(),
  matches: z.array(HTTPRouteMatchSchema).max(64).optional(),
  filters: z.array(filter).max(16).optional(),
  backendRefs: z.array(HTTPBackendRefSchema).max(16).optional(),
  timeouts: z.strictObject({ request: gatewayDuration.optional(), backendRequest: gatewayDuration.optional() }).superRefine(checkTimeouts).optional(),
  retry: z.record(z.string(), z.unknown()).optional(),
  sessionPersistence: z.record(z.string(), z.unknown()).optional(),
}).superRefine((rule, ctx) => {
  checkFilterList(rule.filters, HTTP_FILTER_MEMBERS, ctx, ["filters"]);
  checkHttpRouteRule(rule, ctx);
});

/** HTTPRoute `spec`. */
export const HTTPRouteSpecSchema = z.strictObject({
  parentRefs: z.array(ParentRefSchema).max(32).optional(),
  hostnames: z.array(gatewayHostname).max(16).optional(),
  rules: z.array(HTTPRouteRuleSchema).max(16).optional(),
}).superRefine((spec, ctx) => {
  checkUnique(spec.rules, (r) => r.name, ctx, ["rules"], "rule name");
  checkParentRefs(spec.parentRefs, ctx);
  checkTotalMatches(spec.rules, ctx);
});

/** A whole Gateway API HTTPRoute object. */
export const HTTPRouteSchema = z.strictObject({
  ...envelope(GATEWAY_API_VERSIONS, "HTTPRoute", { namespaced: true }),
  spec: HTTPRouteSpecSchema,
  status: anyStatus,
});

/** A Gateway API HTTPRoute as Ambit stores it. */
export type HTTPRoute = z.output<typeof HTTPRouteSchema>;
