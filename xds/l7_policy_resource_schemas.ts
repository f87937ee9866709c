// Schemas for the L7 security resources (l7_policy_resources.ts) as they arrive
// over xDS or from a waypoint's local file: checked whole, so a bad one is
// refused by name and never half-applied.
import { z } from "zod";
import type { ExtAuthzHttpProvider, ServiceL7Policy } from "./l7_policy_resources.ts";

/** The type URL of {@link ServiceL7Policy} on the delta-xDS stream (a ztunnel never subscribes to it). */
export const SERVICE_L7_POLICY_TYPE_URL = "ambit.dev/v1/ServiceL7Policy" as const;
/** The type URL of {@link ExtAuthzHttpProvider} (named by provider name), the mesh config's ext_authz providers. */
export const EXT_AUTHZ_PROVIDER_TYPE_URL = "ambit.dev/v1/ExtAuthzHttpProvider" as const;

const strings = z.array(z.string()).optional();
const source = z.object({
  principals: strings, notPrincipals: strings, requestPrincipals: strings, notRequestPrincipals: strings,
  namespaces: strings, notNamespaces: strings, ipBlocks: strings, notIpBlocks: strings, remoteIpBlocks: strings, notRemoteIpBlocks: strings,
});
const operation = z.object({ hosts: strings, notHosts: strings, ports: strings, notPorts: strings, methods: strings, notMethods: strings, paths: strings, notPaths: strings });
const rule = z.object({
  from: z.array(z.object({ source })).optional(),
  to: z.array(z.object({ operation })).optional(),
  when: z.array(z.object({ key: z.string().min(1), values: strings, notValues: strings })).optional(),
});
const authorization = z.object({
  name: z.string().min(1),
  namespace: z.string().min(1),
  action: z.enum(["ALLOW", "DENY", "AUDIT", "CUSTOM"]),
  provider: z.string().optional(),
  dryRun: z.boolean().default(false),
  rules: z.array(rule).default([]),
});
const jwtRule = z.object({
  issuer: z.string().min(1),
  audiences: z.array(z.string()).default([]),
  jwks: z.string().optional(),
  jwksUri: z.string().url().optional(),
  fromHeaders: z.array(z.object({ name: z.string().min(1), prefix: z.string().optional() })).default([]),
  fromParams: z.array(z.string().min(1)).default([]),
  fromCookies: z.array(z.string().min(1)).default([]),
  outputPayloadToHeader: z.string().optional(),
  outputClaimToHeaders: z.array(z.object({ header: z.string().min(1), claim: z.string().min(1) })).default([]),
  forwardOriginalToken: z.boolean().default(false),
  timeoutMs: z.number().int().positive().default(5000),
});
const rateLimitKey = z.union([
  z.object({ type: z.literal("SourceIdentity") }),
  z.object({ type: z.literal("RequestPrincipal") }),
  z.object({ type: z.literal("Header"), name: z.string().min(1) }),
  z.object({ type: z.literal("None") }),
]);

/** One Service's L7 policy set. */
export const serviceL7PolicySchema: z.ZodType<ServiceL7Policy> = z.object({
  service: z.string().regex(/^[^/]+\/[^/]+$/, "must be namespace/hostname"),
  requestAuthentications: z.array(z.object({ name: z.string().min(1), namespace: z.string().min(1), jwtRules: z.array(jwtRule) })).default([]),
  authorizations: z.array(authorization).default([]),
  rateLimits: z.array(z.object({
    name: z.string().min(1),
    namespace: z.string().min(1),
    rules: z.array(z.object({ key: rateLimitKey, requests: z.number().int().positive(), unitSeconds: z.number().positive() })),
  })).default([]),
}) as z.ZodType<ServiceL7Policy>;

/** An `envoyExtAuthzHttp` provider. */
export const extAuthzHttpProviderSchema: z.ZodType<ExtAuthzHttpProvider> = z.object({
  name: z.string().min(1),
  service: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  pathPrefix: z.string().default(""),
  timeoutMs: z.number().int().positive().default(600),
  failOpen: z.boolean().default(false),
  statusOnError: z.number().int().min(100).max(599).default(403),
  includeRequestHeadersInCheck: z.array(z.string()).default([]),
  includeAdditionalHeadersInCheck: z.record(z.string(), z.string()).default({}),
  headersToUpstreamOnAllow: z.array(z.string()).default([]),
  headersToDownstreamOnDeny: z.array(z.string()).default([]),
  headersToDownstreamOnAllow: z.array(z.string()).default([]),
}) as z.ZodType<ExtAuthzHttpProvider>;
