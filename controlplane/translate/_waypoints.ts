// Waypoints (Gateways of class istio-waypoint), where ztunnels reach them, and
// which one a namespace, Service or workload sends its traffic through
// (istiod: ambient waypoints.go; MESH_REFERENCE "Waypoints").
import type { KubeObject } from "../../config/objects.ts";
import { USE_WAYPOINT_LABEL, USE_WAYPOINT_NAMESPACE_LABEL, WAYPOINT_FOR_LABEL } from "../../config/objects.ts";
import type { GatewayAddress } from "../../xds/resources.ts";
import type { MeshObjects } from "./_objects.ts";
import { isMeshService, serviceHostname } from "./_kube_service.ts";
import { podAddresses, podHealth, podTerminated } from "./_pod.ts";
import { arr, isAddress, type Labels, labelsOf, portNumber, rec, spec, status, str } from "./_read.ts";

export const WAYPOINT_GATEWAY_CLASS = "istio-waypoint";
/** Set on a waypoint's own pods (and WorkloadEntries): the Gateway they are an instance of. */
export const GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name";
const HBONE_PORT = 15008;

export interface Waypoint {
  readonly name: string;
  readonly namespace: string;
  /** `istio.io/waypoint-for`: service (the default), workload, all or none. */
  readonly trafficFor: string;
  /** Where ztunnels reach it; absent while it has no address (not ready). */
  readonly address?: GatewayAddress;
  /** The Gateway itself (its listeners' allowedRoutes decide which routes it takes). */
  readonly gateway: KubeObject;
}

/** A waypoint's own identity: its Gateway's name as the service account, as Istio gives it. */
export function waypointIdentity(trustDomain: string, namespace: string, name: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${name}`;
}

/** Waypoints by "namespace/name". */
export type Waypoints = ReadonlyMap<string, Waypoint>;

/** Every istio-waypoint Gateway, with its address (and, given the trust domain, its identity) when it has one. */
export function collectWaypoints(objects: MeshObjects, clusterDomain: string, trustDomain?: string): Waypoints {
  const out = new Map<string, Waypoint>();
  for (const gw of objects.gateways) {
    if (spec(gw).gatewayClassName !== WAYPOINT_GATEWAY_CLASS) continue;
    const { name, namespace = "" } = gw.metadata;
    const found = addressOf(gw, objects, clusterDomain);
    const address = found && trustDomain ? { ...found, identity: waypointIdentity(trustDomain, namespace, name) } : found;
    out.set(`${namespace}/${name}`, { name, namespace, gateway: gw, trafficFor: labelsOf(gw)[WAYPOINT_FOR_LABEL] ?? "service", ...(address ? { address } : {}) });
  }
  return out;
}

/** The waypoint a pod or WorkloadEntry is an instance of, if any. */
export function waypointInstanceOf(o: KubeObject, waypoints: Waypoints): Waypoint | undefined {
  const name = labelsOf(o)[GATEWAY_NAME_LABEL];
  return name ? waypoints.get(`${o.metadata.namespace}/${name}`) : undefined;
}

// status.addresses (what a controller published; its type is implied by the value), else the Service named after the Gateway,
// else one instance's address: a waypoint run outside Kubernetes may have no Service.
function addressOf(gw: KubeObject, objects: MeshObjects, clusterDomain: string): GatewayAddress | undefined {
  const { name, namespace = "" } = gw.metadata;
  const listener = arr(spec(gw).listeners).map(rec).find((l) => l.protocol === "HBONE");
  const hboneMtlsPort = portNumber(listener?.port) ?? HBONE_PORT;
  const byIp = (address: string): GatewayAddress => ({ destination: { kind: "address", address: { network: "", address } }, hboneMtlsPort });
  const byHost = (hostname: string): GatewayAddress => ({ destination: { kind: "hostname", namespace, hostname }, hboneMtlsPort });

  // Like istiod, a published hostname is preferred to a published IP.
  const published = arr(status(gw).addresses).map(rec).map((a) => str(a.value) ?? "").filter((v) => v !== "");
  const host = published.find((v) => !isAddress(v));
  const ip = published.find(isAddress);
  if (host || ip) return host ? byHost(host) : byIp(ip!);
  const svc = objects.services.find((s) => s.metadata.namespace === namespace && s.metadata.name === name && isMeshService(s));
  if (svc) return byHost(serviceHostname(name, namespace, clusterDomain));
  const isInstance = (o: KubeObject) => o.metadata.namespace === namespace && labelsOf(o)[GATEWAY_NAME_LABEL] === name;
  const pods = objects.pods.filter((p) => isInstance(p) && !podTerminated(p) && podAddresses(p).length > 0);
  const pod = pods.find((p) => podHealth(p) === "HEALTHY") ?? pods[0];
  if (pod) return byIp(podAddresses(pod)[0]!);
  const entry = objects.workloadEntries.find((e) => isInstance(e) && isAddress(str(spec(e).address) ?? ""));
  return entry ? byIp(str(spec(entry).address)!) : undefined;
}

export type WaypointProblem = "WaypointIsNotReady" | "UnsupportedTrafficType";

/** The outcome of looking up a target's waypoint. */
export interface WaypointBinding {
  /** "namespace/name" of the bound waypoint. */
  readonly waypoint?: string;
  readonly address?: GatewayAddress;
  /** Why a requested waypoint was not bound (Istio's reasons); `inherited` when the namespace label asked. */
  readonly problem?: { readonly reason: WaypointProblem; readonly message: string; readonly inherited: boolean };
}

/**
 * The waypoint for a Service (`traffic` "service") or workload ("workload"): its own
 * `istio.io/use-waypoint` label, else its namespace's; `none` opts out. The waypoint must
 * accept that traffic (`istio.io/waypoint-for` is the same or `all`).
 */
export function bindWaypoint(
  target: { readonly namespace: string; readonly labels: Labels },
  namespaceLabels: Labels,
  waypoints: Waypoints,
  traffic: "service" | "workload",
): WaypointBinding {
  const own = target.labels[USE_WAYPOINT_LABEL];
  if (own === "none") return {};
  const inherited = !own;
  const source = inherited ? namespaceLabels : target.labels;
  const name = source[USE_WAYPOINT_LABEL];
  if (!name || name === "none") return {};
  const key = `${source[USE_WAYPOINT_NAMESPACE_LABEL] || target.namespace}/${name}`;
  const problem = (reason: WaypointProblem, message: string): WaypointBinding => ({ problem: { reason, message, inherited } });
  const wp = waypoints.get(key);
  if (!wp) return problem("WaypointIsNotReady", `waypoint ${key} (label ${USE_WAYPOINT_LABEL}) does not exist`);
  if (wp.trafficFor !== traffic && wp.trafficFor !== "all") {
    // A namespace-wide waypoint for services says nothing about workloads: not a mistake.
    if (inherited && traffic === "workload") return {};
    return problem("UnsupportedTrafficType", `waypoint ${key} does not accept ${traffic} traffic (${WAYPOINT_FOR_LABEL}: ${wp.trafficFor})`);
  }
  if (!wp.address) return problem("WaypointIsNotReady", `waypoint ${key} is not ready: it has no address yet`);
  return { waypoint: key, address: wp.address };
}
