/**
 * Translation: the stored Kubernetes, Istio and Gateway API objects → the
 * data-plane snapshot every ztunnel gets, plus the status conditions and
 * warnings to show the user. Pure: no I/O, the same output for the same input
 * (and the same VIP allocator).
 *
 * @example
 * ```ts
 * import { translate, vipAllocator } from "./controlplane/translate/mod.ts";
 * const { snapshot, statuses, warnings } = translate(objects, {
 *   trustDomain: "cluster.local", clusterDomain: "cluster.local", clusterId: "cluster1",
 *   rootNamespace: "istio-system", allocateVip: vipAllocator(),
 * });
 * ```
 *
 * @module
 */
import type { Condition, KubeObject } from "../../config/objects.ts";
import { describeObject, objectKey } from "../../config/objects.ts";
import type { Authorization, DataPlaneSnapshot } from "../../xds/resources.ts";
import type { ServiceRoutes } from "../../xds/waypoint_resources.ts";
import { namespacedKey } from "../../xds/resources.ts";
import { groupObjects } from "./_objects.ts";
import { peerAuthenticationWarnings, STATIC_STRICT_POLICY_NAME, staticStrictPolicy } from "./_peer_authentication.ts";
import { addCondition, type ObjectWarning, type StatusMap, type TranslateOptions } from "./_types.ts";
import type { ServiceL7Policy } from "../../xds/l7_policy_resources.ts";
import { translateAuthorizationPolicy } from "./authorization.ts";
import { type RouteParentStatus, translateServiceRoutes } from "./service_routes.ts";
import { translateWaypointPolicies } from "./l7_status.ts";
import { translateServices } from "./services.ts";
import { translateWorkloads } from "./workloads.ts";

export type { ObjectWarning, TranslateOptions } from "./_types.ts";
export { STATIC_STRICT_POLICY_NAME, staticStrictPolicy } from "./_peer_authentication.ts";
export {
  DEFAULT_ROOT_NAMESPACE, POLICY_CONDITION_TYPE, type PolicyTranslation, policySelector, policySelects, translateAuthorizationPolicy,
} from "./authorization.ts";
export { translateWaypointPolicies, WAYPOINT_ACCEPTED_CONDITION, type WaypointPolicyTranslation } from "./l7_status.ts";
export { TranslateError, type TranslateErrorCode } from "./errors.ts";
export { portProtocols, ROUTE_CONTROLLER_NAME, type RouteParentStatus, type ServiceRoutesTranslation, translateServiceRoutes } from "./service_routes.ts";
export { compareMatches, orderMatches, type RankedMatch } from "./route_precedence.ts";
export { type ServiceOptions, type ServiceTranslation, translateServices, WAYPOINT_BOUND_CONDITION } from "./services.ts";
export { DEFAULT_VIP_RANGE, type VipAllocator, vipAllocator } from "./vip_allocator.ts";
export { isEnrolled, type WorkloadOptions, type WorkloadTranslation, translateWorkloads } from "./workloads.ts";

/** Everything one translation produces. */
export interface TranslateResult {
  /** Workloads by uid, services by namespace/hostname, policies by namespace/name: each sorted. */
  readonly snapshot: DataPlaneSnapshot;
  /** Conditions to write, by store key (`objectKey`): AuthorizationPolicy `Accepted`, Service `istio.io/WaypointBound`. */
  readonly statuses: Map<string, Condition[]>;
  /** One entry per problem, on the object (`Kind namespace/name`) that has it; no duplicates. */
  readonly warnings: ObjectWarning[];
  /** L7 config, one per (waypoint, Service it serves): only waypoints receive these. */
  readonly serviceRoutes: readonly ServiceRoutes[];
  /** HTTPRoute / GRPCRoute `status.parents`, by store key. */
  readonly routeStatuses: ReadonlyMap<string, readonly RouteParentStatus[]>;
  /** Each waypoint ("namespace/name") → the L7 security it enforces (translate/l7_status.ts). */
  readonly waypointPolicies: ReadonlyMap<string, readonly ServiceL7Policy[]>;
}

/** Translates every object ztunnel needs to know about into one snapshot. */
export function translate(objects: readonly KubeObject[], options: TranslateOptions): TranslateResult {
  const mesh = groupObjects(objects);
  const statuses: StatusMap = new Map();
  const warnings: ObjectWarning[] = [];
  const policies: Authorization[] = [];
  for (const p of mesh.authorizationPolicies) {
    const t = translateAuthorizationPolicy(p, options);
    if (t.authorization) policies.push(t.authorization);
    if (t.status) addCondition(statuses, objectKey(p), t.status);
    for (const message of t.warnings) warnings.push({ object: describeObject(p), message });
  }
  for (const pa of mesh.peerAuthentications) {
    for (const message of peerAuthenticationWarnings(pa)) warnings.push({ object: describeObject(pa), message });
  }
  const services = translateServices(objects, options);
  for (const [key, conditions] of services.statuses) for (const c of conditions) addCondition(statuses, key, c);
  const workloads = translateWorkloads(objects, options);
  const routes = translateServiceRoutes(objects, services.services, options);
  const l7 = translateWaypointPolicies(objects, options);
  for (const [key, conditions] of l7.statuses) for (const c of conditions) addCondition(statuses, key, c);
  // Istio's static STRICT policy: sent when some workload refers to it.
  const strictKey = `${options.rootNamespace}/${STATIC_STRICT_POLICY_NAME}`;
  if (workloads.workloads.some((w) => w.authorizationPolicies.includes(strictKey))) policies.push(staticStrictPolicy(options.rootNamespace));
  policies.sort((a, b) => (namespacedKey(a) < namespacedKey(b) ? -1 : namespacedKey(a) > namespacedKey(b) ? 1 : 0));

  const seen = new Set<string>();
  const unique = [...warnings, ...services.warnings, ...workloads.warnings, ...routes.warnings, ...l7.warnings].filter((w) => {
    const key = `${w.object}\u0000${w.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
  return {
    snapshot: { workloads: workloads.workloads, services: services.services, policies },
    statuses,
    warnings: unique,
    serviceRoutes: routes.routes,
    routeStatuses: routes.routeStatuses,
    waypointPolicies: l7.byWaypoint,
  };
}
