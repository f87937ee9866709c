// gateway.envoyproxy.io BackendTrafficPolicy, the part Ambit's waypoint
// enforces: `rateLimit: {type: Local}` attached by targetRefs (Service or the
// waypoint Gateway). Clients are told apart the way Envoy Gateway's
// clientSelectors do (a Distinct header), plus two selectors a mesh has and a
// gateway does not: the caller's mTLS identity and its JWT principal.
import { z } from "zod";
import { policyTargetRef } from "./_common.ts";
import { anyStatus, envelope } from "./_meta.ts";

/** apiVersions served. */
export const ENVOY_GATEWAY_VERSIONS = ["gateway.envoyproxy.io/v1alpha1"] as const;

const distinct = z.strictObject({ type: z.literal("Distinct") });
/** One clientSelector: what a bucket is kept per (one field). */
const clientSelector = z.strictObject({
  headers: z.array(z.strictObject({ name: z.string().min(1), type: z.literal("Distinct") })).length(1, "exactly one Distinct header").optional(),
  sourceIdentity: distinct.optional(),
  requestPrincipal: distinct.optional(),
}).refine((s) => [s.headers, s.sourceIdentity, s.requestPrincipal].filter(Boolean).length === 1, "set exactly one of headers, sourceIdentity, requestPrincipal");

const limit = z.strictObject({
  requests: z.number().int().positive(),
  unit: z.enum(["Second", "Minute", "Hour", "Day"]),
});

/** BackendTrafficPolicy `spec` (rate limits only). */
export const BackendTrafficPolicySpecSchema = z.strictObject({
  targetRefs: z.array(policyTargetRef).min(1, "must name the Service or waypoint Gateway it applies to"),
  rateLimit: z.strictObject({
    type: z.literal("Local", { error: "only Local rate limits are enforced (a Global limit needs a shared rate-limit service; see docs/waypoint_security.md)" }),
    local: z.strictObject({
      rules: z.array(z.strictObject({ clientSelectors: z.array(clientSelector).max(1, "one selector per rule").optional(), limit })).min(1),
    }),
  }),
});

/** A whole BackendTrafficPolicy. */
export const BackendTrafficPolicySchema = z.strictObject({
  ...envelope(ENVOY_GATEWAY_VERSIONS, "BackendTrafficPolicy", { namespaced: true }),
  spec: BackendTrafficPolicySpecSchema,
  status: anyStatus,
});
