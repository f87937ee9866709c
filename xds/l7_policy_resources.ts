/**
 * The L7 security resources a waypoint enforces: RequestAuthentication (JWT),
 * AuthorizationPolicy with L7 fields, CUSTOM ext_authz providers and local rate
 * limits — translated by the controlplane from Istio / Envoy Gateway objects
 * whose `targetRefs` name a Service (or the waypoint's Gateway), and streamed to
 * the waypoint that serves that Service. A ztunnel never receives these.
 *
 * One {@link ServiceL7Policy} per Service key ("namespace/hostname"); policies
 * attached to the waypoint's Gateway are merged into every Service it serves
 * by the controlplane, so the waypoint looks up one key per request.
 *
 * Authorization rules keep Istio's own shape (from / to / when, string lists):
 * the waypoint compiles them once per state, and the decision table tests read
 * as the Istio docs do.
 *
 * @module
 */

/** `rules[].from[].source`, the L7-relevant Istio fields (L4 ones kept too: the waypoint knows the caller). */
export interface L7Source {
  readonly principals?: readonly string[];
  readonly notPrincipals?: readonly string[];
  readonly requestPrincipals?: readonly string[];
  readonly notRequestPrincipals?: readonly string[];
  readonly namespaces?: readonly string[];
  readonly notNamespaces?: readonly string[];
  readonly ipBlocks?: readonly string[];
  readonly notIpBlocks?: readonly string[];
  readonly remoteIpBlocks?: readonly string[];
  readonly notRemoteIpBlocks?: readonly string[];
}

/** `rules[].to[].operation`. */
export interface L7Operation {
  readonly hosts?: readonly string[];
  readonly notHosts?: readonly string[];
  readonly ports?: readonly string[];
  readonly notPorts?: readonly string[];
  readonly methods?: readonly string[];
  readonly notMethods?: readonly string[];
  readonly paths?: readonly string[];
  readonly notPaths?: readonly string[];
}

/** `rules[].when[]`. */
export interface L7Condition {
  readonly key: string;
  readonly values?: readonly string[];
  readonly notValues?: readonly string[];
}

/** One rule: its from, to and when entries AND; inside from / to, the entries OR. */
export interface L7Rule {
  readonly from?: readonly { readonly source: L7Source }[];
  readonly to?: readonly { readonly operation: L7Operation }[];
  readonly when?: readonly L7Condition[];
}

/** An AuthorizationPolicy as the waypoint enforces it. */
export interface L7Authorization {
  readonly name: string;
  readonly namespace: string;
  readonly action: "ALLOW" | "DENY" | "AUDIT" | "CUSTOM";
  /** The ext_authz provider of a CUSTOM policy. */
  readonly provider?: string;
  /** `istio.io/dry-run`: evaluated and logged, never enforced. */
  readonly dryRun: boolean;
  /** Absent rules match nothing (`spec: {}` is allow-nothing). */
  readonly rules: readonly L7Rule[];
}

/** One `jwtRules[]` entry, defaults filled in. */
export interface JwtRule {
  readonly issuer: string;
  /** Empty: any audience is accepted (Istio). */
  readonly audiences: readonly string[];
  /** Inline JWKS (JSON text); wins over `jwksUri`. */
  readonly jwks?: string;
  /** Where the waypoint fetches keys; absent with no `jwks`: OIDC discovery from the issuer. */
  readonly jwksUri?: string;
  /** Empty with no params / cookies: `Authorization: Bearer `. */
  readonly fromHeaders: readonly { readonly name: string; readonly prefix?: string }[];
  readonly fromParams: readonly string[];
  readonly fromCookies: readonly string[];
  readonly outputPayloadToHeader?: string;
  readonly outputClaimToHeaders: readonly { readonly header: string; readonly claim: string }[];
  readonly forwardOriginalToken: boolean;
  /** JWKS fetch timeout (Istio's `timeout`, default 5 s). */
  readonly timeoutMs: number;
}

/** A RequestAuthentication as the waypoint enforces it. */
export interface L7RequestAuthentication {
  readonly name: string;
  readonly namespace: string;
  readonly jwtRules: readonly JwtRule[];
}

/** What a local rate limit is counted by (Envoy Gateway's `clientSelectors`, reduced). */
export type RateLimitKey =
  | { readonly type: "SourceIdentity" }
  | { readonly type: "RequestPrincipal" }
  | { readonly type: "Header"; readonly name: string }
  | { readonly type: "None" };

/** One local rate-limit rule: `requests` per `unitSeconds`, per distinct key value, per waypoint replica. */
export interface RateLimitRule {
  readonly key: RateLimitKey;
  readonly requests: number;
  readonly unitSeconds: number;
}

/** A BackendTrafficPolicy's local rate limit, as the waypoint enforces it. */
export interface L7RateLimit {
  readonly name: string;
  readonly namespace: string;
  readonly rules: readonly RateLimitRule[];
}

/** Everything L7-security the waypoint enforces for one Service. */
export interface ServiceL7Policy {
  /** The Service key, "namespace/hostname". */
  readonly service: string;
  readonly requestAuthentications: readonly L7RequestAuthentication[];
  readonly authorizations: readonly L7Authorization[];
  readonly rateLimits: readonly L7RateLimit[];
}

/** Istio's `envoyExtAuthzHttp` extension provider, from the mesh config. */
export interface ExtAuthzHttpProvider {
  readonly name: string;
  /** Host name or address of the authorization service, and its port. */
  readonly service: string;
  readonly port: number;
  readonly pathPrefix: string;
  readonly timeoutMs: number;
  /** Allow the request when the service cannot be reached or answers 5xx (`failOpen`). */
  readonly failOpen: boolean;
  /** Status sent when the check fails closed (`statusOnError`, default 403). */
  readonly statusOnError: number;
  /** Request headers sent in the check (besides the always-sent Host, Method, Path, Content-Length, Authorization). */
  readonly includeRequestHeadersInCheck: readonly string[];
  readonly includeAdditionalHeadersInCheck: Readonly<Record<string, string>>;
  /** Check-response headers copied to the upstream request on allow. */
  readonly headersToUpstreamOnAllow: readonly string[];
  /** Check-response headers copied to the downstream response on deny. */
  readonly headersToDownstreamOnDeny: readonly string[];
  readonly headersToDownstreamOnAllow: readonly string[];
}

/** An empty policy set, for Services that have none. */
export const NO_L7_POLICY: Omit<ServiceL7Policy, "service"> = Object.freeze({ requestAuthentications: [], authorizations: [], rateLimits: [] });
