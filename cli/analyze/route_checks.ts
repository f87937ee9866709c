/**
 * `ambit analyze`'s checks on mesh routes (HTTPRoute, GRPCRoute with a parentRef
 * of kind Service): a route whose Service no waypoint serves has no effect, and
 * a waypoint whose listeners' allowedRoutes refuse the route ignores it. Both
 * are valid config the controlplane accepts, then reports in the route's status.
 * @module
 */
import { routeRefusedByListeners } from "../../config/allowed_routes.ts";
import { describeObject, type KubeObject, USE_WAYPOINT_LABEL, USE_WAYPOINT_NAMESPACE_LABEL } from "../../config/objects.ts";
import type { SourcedObject } from "../documents.ts";
import { type AnalysisMessage, message } from "./messages.ts";

const GATEWAY_API = "gateway.networking.k8s.io/";
const isRoute = (o: KubeObject) => (o.kind === "HTTPRoute" || o.kind === "GRPCRoute") && o.apiVersion.startsWith(GATEWAY_API);
type Ref = { group?: string; kind?: string; name?: string; namespace?: string };

/** The waypoint ("ns/name") a Service's labels, or its namespace's, name; undefined for none. */
function waypointOf(service: KubeObject, namespace: KubeObject | undefined): string | undefined {
  const own = service.metadata.labels ?? {};
  if (own[USE_WAYPOINT_LABEL] === "none") return undefined;
  const source = own[USE_WAYPOINT_LABEL] ? own : namespace?.metadata.labels ?? {};
  const name = source[USE_WAYPOINT_LABEL];
  if (!name || name === "none") return undefined;
  return `${source[USE_WAYPOINT_NAMESPACE_LABEL] || service.metadata.namespace}/${name}`;
}

/** Routes attached to a Service that no waypoint serves, and routes a waypoint's allowedRoutes refuse. */
export function checkMeshRoutes(objects: readonly SourcedObject[]): AnalysisMessage[] {
  const find = (kind: string, namespace: string | undefined, name: string) =>
    objects.find((s) => s.object.kind === kind && s.object.metadata.name === name && (namespace === undefined || s.object.metadata.namespace === namespace))?.object;
  const namespaceLabels = (ns: string) => find("Namespace", undefined, ns)?.metadata.labels ?? {};
  const out: AnalysisMessage[] = [];
  for (const s of objects.filter((x) => isRoute(x.object))) {
    const route = s.object;
    const routeNs = route.metadata.namespace ?? "";
    ((route.spec as { parentRefs?: Ref[] } | undefined)?.parentRefs ?? []).forEach((ref, i) => {
      if (ref.group !== "" || ref.kind !== "Service" || !ref.name) return;
      const at = { object: describeObject(route), file: s.file, field: `spec.parentRefs[${i}]` };
      const ns = ref.namespace ?? routeNs;
      const service = find("Service", ns, ref.name);
      if (!service) return; // the schema-level reference check is not this one's
      const waypoint = waypointOf(service, find("Namespace", undefined, ns));
      if (!waypoint) {
        out.push(message("RouteWithoutWaypoint", at,
          `no waypoint serves Service ${ns}/${ref.name} (label ${USE_WAYPOINT_LABEL} on it or its namespace): this route has no effect`));
        return;
      }
      const [wpNs, wpName] = waypoint.split("/") as [string, string];
      const gateway = objects.find((x) => x.object.kind === "Gateway" && x.object.apiVersion.startsWith(GATEWAY_API) &&
        x.object.metadata.namespace === wpNs && x.object.metadata.name === wpName)?.object;
      if (!gateway) return; // checkWaypointReferences reports the missing waypoint
      const refusal = routeRefusedByListeners(gateway, { kind: route.kind, namespace: routeNs, name: route.metadata.name }, namespaceLabels);
      if (refusal) out.push(message("RouteNotAllowedByWaypoint", at, `${refusal}: the waypoint ignores this route`));
    });
  }
  return out;
}
