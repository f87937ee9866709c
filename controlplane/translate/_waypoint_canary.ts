// The canary waypoint of a Service: `istio.io/use-waypoint-canary` (+ `-namespace`)
// names a second waypoint and the annotation `istio.io/use-waypoint-canary-weight`
// the percent of new connections it takes (istio/istio#60805). Like the primary
// label, the Service's own label wins over its namespace's; `none` opts out.
import {
  USE_WAYPOINT_CANARY_LABEL, USE_WAYPOINT_CANARY_NAMESPACE_LABEL, USE_WAYPOINT_CANARY_WEIGHT_ANNOTATION, WAYPOINT_FOR_LABEL,
} from "../../config/objects.ts";
import type { KubeObject } from "../../config/objects.ts";
import type { GatewayAddress } from "../../xds/resources.ts";
import { selectorOf } from "./_kube_service.ts";
import type { MeshObjects } from "./_objects.ts";
import { type Labels, labelsOf } from "./_read.ts";
import { bindWaypoint, GATEWAY_NAME_LABEL, type WaypointBinding, type Waypoints } from "./_waypoints.ts";

/** A bound canary, or why the labels asked for one that cannot be bound. */
export interface CanaryBinding {
  readonly waypoint?: string;
  readonly address?: GatewayAddress;
  /** 0–100; without the annotation 0, so labelling alone moves no traffic. */
  readonly weight: number;
  readonly problem?: string;
}

/** Labels and annotations of one object: the Service, or its Namespace. */
export interface Tagged {
  readonly labels: Labels;
  readonly annotations: Labels;
}

/** The canary waypoint of a Service whose primary binding is `primary`; undefined when none is asked for. */
export function bindCanaryWaypoint(
  service: Tagged & { readonly namespace: string },
  namespace: Tagged,
  waypoints: Waypoints,
  primary: WaypointBinding,
): CanaryBinding | undefined {
  const own = service.labels[USE_WAYPOINT_CANARY_LABEL];
  if (own === "none") return undefined;
  const source = own ? service : namespace;
  const name = source.labels[USE_WAYPOINT_CANARY_LABEL];
  if (!name || name === "none") return undefined;
  const key = `${source.labels[USE_WAYPOINT_CANARY_NAMESPACE_LABEL] || service.namespace}/${name}`;
  const fail = (problem: string): CanaryBinding => ({ weight: 0, problem });
  const raw = source.annotations[USE_WAYPOINT_CANARY_WEIGHT_ANNOTATION];
  const weight = raw === undefined ? 0 : /^\d{1,3}$/.test(raw) && Number(raw) <= 100 ? Number(raw) : undefined;
  if (weight === undefined) return fail(`annotation ${USE_WAYPOINT_CANARY_WEIGHT_ANNOTATION}: "${raw}" must be a whole percent from 0 to 100`);
  if (!primary.waypoint) return fail(`canary waypoint ${key} needs a primary waypoint (label istio.io/use-waypoint)`);
  if (key === primary.waypoint) return undefined;
  const wp = waypoints.get(key);
  if (!wp) return fail(`canary waypoint ${key} (label ${USE_WAYPOINT_CANARY_LABEL}) does not exist`);
  if (wp.trafficFor !== "service" && wp.trafficFor !== "all") {
    return fail(`canary waypoint ${key} does not accept service traffic (${WAYPOINT_FOR_LABEL}: ${wp.trafficFor})`);
  }
  if (!wp.address) return fail(`canary waypoint ${key} is not ready: it has no address yet`);
  return { waypoint: key, address: wp.address, weight };
}

/** The primary and canary waypoints of a Service or ServiceEntry (none for a waypoint's own Service). */
export function serviceBindings(o: KubeObject, mesh: MeshObjects, waypoints: Waypoints): { primary: WaypointBinding; canary?: CanaryBinding } {
  const namespace = o.metadata.namespace ?? "";
  if (isWaypointService(o, waypoints)) return { primary: {} };
  const primary = bindWaypoint({ namespace, labels: labelsOf(o) }, mesh.namespaceLabels(namespace), waypoints, "service");
  const canary = bindCanaryWaypoint(
    { namespace, labels: labelsOf(o), annotations: o.metadata.annotations ?? {} },
    { labels: mesh.namespaceLabels(namespace), annotations: mesh.namespaceAnnotations(namespace) },
    waypoints,
    primary,
  );
  return canary ? { primary, canary } : { primary };
}

/** A waypoint's own Service never goes through a waypoint (it would loop). */
function isWaypointService(o: KubeObject, waypoints: Waypoints): boolean {
  return o.kind === "Service" && (
    labelsOf(o)["gateway.istio.io/managed"] === "istio.io-mesh-controller" ||
    waypoints.has(`${o.metadata.namespace}/${o.metadata.name}`) ||
    GATEWAY_NAME_LABEL in selectorOf(o)
  );
}
