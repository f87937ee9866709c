/**
 * The kinds Ambit reads from config, one schema each, shaped like the
 * Kubernetes, Istio and Gateway API originals (unknown fields are errors).
 *
 * @example
 * ```ts
 * const info = findKind("security.istio.io/v1", "AuthorizationPolicy");
 * const r = info?.schema.safeParse(object);
 * ```
 * @module
 */
import type { z } from "zod";
import type { KubeObject } from "../objects.ts";
import { AuthorizationPolicySchema, ISTIO_SECURITY_VERSIONS } from "./authorization_policy.ts";
import { BackendTrafficPolicySchema, ENVOY_GATEWAY_VERSIONS } from "./backend_traffic_policy.ts";
import { GATEWAY_API_VERSIONS, GatewaySchema } from "./gateway.ts";
import { GRPC_ROUTE_VERSIONS, GRPCRouteSchema } from "./grpc_route.ts";
import { HTTPRouteSchema } from "./http_route.ts";
import { NamespaceSchema } from "./namespace.ts";
import { PeerAuthenticationSchema } from "./peer_authentication.ts";
import { PodSchema } from "./pod.ts";
import { RequestAuthenticationSchema } from "./request_authentication.ts";
import { ServiceSchema } from "./service.ts";
import { ServiceAccountSchema } from "./service_account.ts";
import { ServiceEntrySchema } from "./service_entry.ts";
import { STORED_ONLY_KINDS, storedOnlySchema } from "./stored_only.ts";
import { ISTIO_NETWORKING_VERSIONS, WorkloadEntrySchema } from "./workload_entry.ts";

export * from "./authorization_policy.ts";
export * from "./backend_traffic_policy.ts";
export * from "./gateway.ts";
export * from "./grpc_route.ts";
export * from "./http_route.ts";
export * from "./namespace.ts";
export * from "./peer_authentication.ts";
export * from "./pod.ts";
export * from "./request_authentication.ts";
export * from "./service.ts";
export * from "./service_account.ts";
export * from "./service_entry.ts";
export * from "./workload_entry.ts";
export { STORED_ONLY_KINDS } from "./stored_only.ts";

/** What Ambit knows about one kind. */
export interface KindInfo {
  readonly kind: string;
  /** API group: "" for core Kubernetes kinds. */
  readonly group: string;
  /** Accepted `apiVersion` values, newest first. */
  readonly apiVersions: readonly string[];
  /** False for cluster-scoped kinds (Namespace, GatewayClass). */
  readonly namespaced: boolean;
  readonly schema: z.ZodType<KubeObject>;
  /** False: stored and served, but Ambit does not act on it (the intake warns). */
  readonly enforced: boolean;
}

/** Kubernetes' GroupKind spelling: `Pod`, `Gateway.gateway.networking.k8s.io`. */
export function groupKind(group: string, kind: string): string {
  return group ? `${kind}.${group}` : kind;
}

/** The API group of an apiVersion: `security.istio.io/v1` → `security.istio.io`, `v1` → "". */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

// [schema, kind, group, apiVersions, namespaced, enforced]. Validated kinds that nothing acts on yet
// are stored and reported as not enforced, never passed off as enforced.
const VALIDATED: readonly (readonly [z.ZodType<KubeObject>, string, string, readonly string[], boolean, boolean?])[] = [
  [NamespaceSchema, "Namespace", "", ["v1"], false],
  [ServiceAccountSchema, "ServiceAccount", "", ["v1"], true],
  [ServiceSchema, "Service", "", ["v1"], true],
  [PodSchema, "Pod", "", ["v1"], true],
  [WorkloadEntrySchema, "WorkloadEntry", "networking.istio.io", ISTIO_NETWORKING_VERSIONS, true],
  [ServiceEntrySchema, "ServiceEntry", "networking.istio.io", ISTIO_NETWORKING_VERSIONS, true],
  [AuthorizationPolicySchema, "AuthorizationPolicy", "security.istio.io", ISTIO_SECURITY_VERSIONS, true],
  [PeerAuthenticationSchema, "PeerAuthentication", "security.istio.io", ISTIO_SECURITY_VERSIONS, true],
  [RequestAuthenticationSchema, "RequestAuthentication", "security.istio.io", ISTIO_SECURITY_VERSIONS, true],
  [GatewaySchema, "Gateway", "gateway.networking.k8s.io", GATEWAY_API_VERSIONS, true],
  [HTTPRouteSchema, "HTTPRoute", "gateway.networking.k8s.io", GATEWAY_API_VERSIONS, true],
  [GRPCRouteSchema, "GRPCRoute", "gateway.networking.k8s.io", GRPC_ROUTE_VERSIONS, true],
  [BackendTrafficPolicySchema, "BackendTrafficPolicy", "gateway.envoyproxy.io", ENVOY_GATEWAY_VERSIONS, true],
];

/**
 * Every kind Ambit accepts, keyed by GroupKind (`Service`,
 * `AuthorizationPolicy.security.istio.io`): the kind alone is ambiguous, since
 * Istio's networking Gateway and the Gateway API Gateway share a name.
 */
export const KINDS: Readonly<Record<string, KindInfo>> = Object.freeze(Object.fromEntries([
  ...VALIDATED.map(([schema, kind, group, apiVersions, namespaced, enforced = true]): KindInfo =>
    ({ kind, group, apiVersions, namespaced, schema, enforced })),
  ...STORED_ONLY_KINDS.map((k): KindInfo => ({ ...k, schema: storedOnlySchema(k), enforced: false })),
].map((k) => [groupKind(k.group, k.kind), Object.freeze(k)])));

/** The kind an object's `apiVersion` and `kind` name, or undefined when Ambit does not accept that pair. */
export function findKind(apiVersion: string, kind: string): KindInfo | undefined {
  const info = KINDS[groupKind(groupOf(apiVersion), kind)];
  return info?.apiVersions.includes(apiVersion) ? info : undefined;
}

/** Every known kind with this name, whatever its group (for error messages). */
export function kindsNamed(kind: string): KindInfo[] {
  return Object.values(KINDS).filter((k) => k.kind === kind);
}
