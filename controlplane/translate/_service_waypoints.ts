// Which waypoint serves each Service (by service key), for the translations
// that attach config to Services at their waypoint (L7 policy, Telemetry).
import { serviceHostname } from "./_kube_service.ts";
import type { MeshObjects } from "./_objects.ts";
import { labelsOf } from "./_read.ts";
import { bindWaypoint, collectWaypoints } from "./_waypoints.ts";

/** Service key → its waypoint ("namespace/name") or undefined, and a Service's key by namespace and name. */
export interface ServiceWaypoints {
  readonly waypointOfService: ReadonlyMap<string, string | undefined>;
  /** The service key ("namespace/hostname") of Service namespace/name, when it exists. */
  readonly serviceKey: (namespace: string, name: string) => string | undefined;
  /** The service keys waypoint namespace/name serves. */
  readonly gatewayServices: (namespace: string, name: string) => string[];
}

/** Binds every Service to its waypoint (Istio's use-waypoint labels). */
export function serviceWaypoints(mesh: MeshObjects, clusterDomain: string): ServiceWaypoints {
  const waypoints = collectWaypoints(mesh, clusterDomain);
  const waypointOfService = new Map<string, string | undefined>();
  const known = new Set<string>();
  for (const svc of mesh.services) {
    const ns = svc.metadata.namespace ?? "";
    const key = `${ns}/${serviceHostname(svc.metadata.name, ns, clusterDomain)}`;
    known.add(`${ns}/${svc.metadata.name}`);
    waypointOfService.set(key, bindWaypoint({ namespace: ns, labels: labelsOf(svc) }, mesh.namespaceLabels(ns), waypoints, "service").waypoint);
  }
  return {
    waypointOfService,
    serviceKey: (ns, name) => (known.has(`${ns}/${name}`) ? `${ns}/${serviceHostname(name, ns, clusterDomain)}` : undefined),
    gatewayServices: (ns, name) => [...waypointOfService].filter(([, wp]) => wp === `${ns}/${name}`).map(([k]) => k),
  };
}
