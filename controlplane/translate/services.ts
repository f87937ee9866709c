/**
 * Services and ServiceEntries → the Services ztunnel load-balances over
 * (istiod: ambient services.go). One Service per Kubernetes Service, one per
 * ServiceEntry host; VIPs from the spec, else from the VIP allocator.
 *
 * @module
 */
import type { KubeObject } from "../../config/objects.ts";
import { describeObject, objectKey } from "../../config/objects.ts";
import type { NetworkAddress, PortMap, Service } from "../../xds/resources.ts";
import { hostnamesOf, isMeshService, isMeshServiceEntry, portsOf } from "./_kube_service.ts";
import { groupObjects, type MeshObjects } from "./_objects.ts";
import { isAddress, spec, strings } from "./_read.ts";
import { addCondition, type ObjectWarning, type StatusMap, type TranslateOptions } from "./_types.ts";
import { serviceBindings } from "./_waypoint_canary.ts";
import { collectWaypoints, type Waypoints } from "./_waypoints.ts";
import { TranslateError } from "./errors.ts";
import type { VipAllocator } from "./vip_allocator.ts";

export type ServiceOptions = Pick<TranslateOptions, "clusterDomain" | "allocateVip"> & Partial<Pick<TranslateOptions, "trustDomain">>;

/** Istio's condition on a Service or ServiceEntry that asks for a waypoint. */
export const WAYPOINT_BOUND_CONDITION = "istio.io/WaypointBound";

export interface ServiceTranslation {
  /** Sorted by namespace/hostname. */
  readonly services: readonly Service[];
  readonly warnings: readonly ObjectWarning[];
  /** WaypointBound conditions, by store key of the Service or ServiceEntry. */
  readonly statuses: StatusMap;
}

/**
 * Translates the Services (with a cluster IP and a selector) and ServiceEntries (MESH_INTERNAL or
 * with a workloadSelector) among `objects`. VIPs are allocated in key order, so the same set of
 * services asks the allocator for the same keys in the same order.
 *
 * @example
 * ```ts
 * const { services } = translateServices(objects, { clusterDomain: "cluster.local", allocateVip: vipAllocator() });
 * ```
 */
export function translateServices(objects: readonly KubeObject[], options: ServiceOptions): ServiceTranslation {
  const mesh = groupObjects(objects);
  const waypoints = collectWaypoints(mesh, options.clusterDomain, options.trustDomain);
  const warnings: ObjectWarning[] = [];
  const statuses: StatusMap = new Map();
  const byKey = new Map<string, { object: KubeObject; service: Omit<Service, "vips">; vips?: NetworkAddress[] }>();
  const sources = [...mesh.services.filter(isMeshService), ...mesh.serviceEntries.filter(isMeshServiceEntry)];
  for (const o of sources) {
    const namespace = o.metadata.namespace ?? "";
    if (o.kind === "ServiceEntry" && Array.isArray(spec(o).endpoints) && (spec(o).endpoints as unknown[]).length > 0) {
      warnings.push({ object: describeObject(o), message: "spec.endpoints are not translated: select WorkloadEntries with spec.workloadSelector instead" });
    }
    const { waypoint, waypointCanary } = serviceWaypoint(o, mesh, waypoints, warnings, statuses);
    const vips = specVips(o);
    for (const hostname of hostnamesOf(o, options.clusterDomain)) {
      const key = `${namespace}/${hostname}`;
      if (byKey.has(key)) {
        warnings.push({ object: describeObject(o), message: `hostname ${hostname} is already defined in namespace ${namespace}; ignored here` });
        continue;
      }
      const service: Omit<Service, "vips"> = {
        name: o.metadata.name, namespace, hostname,
        ports: portMap(o),
        subjectAltNames: o.kind === "ServiceEntry" ? strings(spec(o).subjectAltNames) : [],
        ...(waypoint ? { waypoint } : {}),
        ...(waypoint && waypointCanary ? { waypointCanary } : {}),
      };
      byKey.set(key, vips ? { object: o, service, vips } : { object: o, service });
    }
  }
  const keys = [...byKey.keys()].sort();
  // Free the VIPs of services that are gone (or got addresses of their own) before allocating.
  const retain = (options.allocateVip as Partial<VipAllocator>).retain;
  if (typeof retain === "function") retain(keys.filter((k) => !byKey.get(k)!.vips));
  const services = keys.map((key): Service => {
    const { object, service, vips } = byKey.get(key)!;
    return { ...service, vips: vips ?? allocate(key, object, options, warnings) };
  });
  return { services, warnings, statuses };
}

function allocate(key: string, object: KubeObject, options: ServiceOptions, warnings: ObjectWarning[]): NetworkAddress[] {
  try {
    return [{ network: "", address: options.allocateVip(key) }];
  } catch (e) {
    if (!(e instanceof TranslateError)) throw e;
    warnings.push({ object: describeObject(object), message: `${e.message}: sent without a VIP` });
    return [];
  }
}

/**
 * VIPs the spec gives: `clusterIPs`/`clusterIP` of a Service (a headless Service, `None`, has none
 * and gets none), the single-host `addresses` of a ServiceEntry. Undefined means "allocate one".
 */
function specVips(o: KubeObject): NetworkAddress[] | undefined {
  const s = spec(o);
  if (o.kind === "ServiceEntry") {
    const ips = strings(s.addresses).map((a) => a.replace(/\/(32|128)$/, "")).filter(isAddress);
    return ips.length > 0 ? ips.map((address) => ({ network: "", address })) : undefined;
  }
  const listed = strings(s.clusterIPs);
  const ips = listed.length > 0 ? listed : strings([s.clusterIP]);
  if (ips.includes("None")) return [];
  const valid = ips.filter(isAddress);
  return valid.length > 0 ? valid.map((address) => ({ network: "", address })) : undefined;
}

/** Service port → target port; 0 when the target is a named port each workload resolves. */
function portMap(o: KubeObject): PortMap {
  const out: Record<number, number> = {};
  for (const p of portsOf(o)) out[p.port] = typeof p.targetPort === "number" ? p.targetPort : o.kind === "Service" && p.targetPort === undefined ? p.port : 0;
  return out;
}

function serviceWaypoint(o: KubeObject, mesh: MeshObjects, waypoints: Waypoints, warnings: ObjectWarning[], statuses: StatusMap): Pick<Service, "waypoint" | "waypointCanary"> {
  const { primary: binding, canary } = serviceBindings(o, mesh, waypoints);
  if (binding.problem) {
    warnings.push({ object: describeObject(o), message: binding.problem.message });
    addCondition(statuses, objectKey(o), {
      type: WAYPOINT_BOUND_CONDITION, status: "False", reason: binding.problem.reason, message: binding.problem.message,
    });
  } else if (binding.waypoint) {
    const also = canary?.waypoint ? `; canary waypoint ${canary.waypoint} takes ${canary.weight}% of new connections` : "";
    addCondition(statuses, objectKey(o), {
      type: WAYPOINT_BOUND_CONDITION, status: "True", reason: "WaypointAccepted", message: `attached to waypoint ${binding.waypoint}${also}`,
    });
  }
  if (canary?.problem) warnings.push({ object: describeObject(o), message: canary.problem });
  return {
    ...(binding.address ? { waypoint: binding.address } : {}),
    ...(canary?.address ? { waypointCanary: { waypoint: canary.address, weight: canary.weight } } : {}),
  };
}
