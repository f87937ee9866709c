// Which routes a waypoint takes: a route attaches to a Service (mesh parentRef,
// group "" kind Service), and the waypoint serving that Service takes it only if
// one of its listeners' allowedRoutes admits the route's namespace and kind.
// Backends resolve to Services Ambit knows; another namespace needs a ReferenceGrant.
import { routeRefusedByListeners } from "../../config/allowed_routes.ts";
import type { KubeObject } from "../../config/objects.ts";
import type { Service } from "../../xds/resources.ts";
import type { ResolvedBackend } from "../../xds/waypoint_resources.ts";
import type { MeshObjects } from "./_objects.ts";
import type { BackendResolver, RefProblem } from "./_route_rules.ts";
import { serviceHostname } from "./_kube_service.ts";
import { arr, type Json, portNumber, rec, spec, str } from "./_read.ts";

export const GATEWAY_GROUP = "gateway.networking.k8s.io";

/** A parentRef naming a Service (GEP-1426), or undefined for other parents (Gateways), which Ambit leaves alone. */
export function serviceParent(ref: Json, routeNamespace: string): { namespace: string; name: string; port?: number } | undefined {
  if (str(ref.group) !== "" || (str(ref.kind) ?? "Gateway") !== "Service") return undefined;
  const port = portNumber(ref.port);
  return { namespace: str(ref.namespace) ?? routeNamespace, name: str(ref.name) ?? "", ...(port ? { port } : {}) };
}

/** Whether some listener of the waypoint Gateway admits the route; the refusal otherwise. */
export function allowedByListeners(gateway: KubeObject, route: KubeObject, mesh: MeshObjects): string | undefined {
  return routeRefusedByListeners(gateway, { kind: route.kind, namespace: route.metadata.namespace ?? "", name: route.metadata.name }, mesh.namespaceLabels);
}

/** A resolver over the translated Services and the stored ReferenceGrants. */
export function backendResolver(
  routeKind: string,
  services: ReadonlyMap<string, Pick<Service, "ports">>,
  mesh: MeshObjects,
  clusterDomain: string,
): BackendResolver {
  return (ref, routeNamespace) => {
    const unresolved = (problem: RefProblem): { backend: ResolvedBackend; problem: RefProblem } => ({ backend: { kind: "unresolved", reason: problem.message }, problem });
    const group = str(ref.group) ?? "";
    const kind = str(ref.kind) ?? "Service";
    const name = str(ref.name) ?? "";
    const namespace = str(ref.namespace) ?? routeNamespace;
    if (group !== "" || kind !== "Service") return unresolved({ reason: "InvalidKind", message: `backend kind ${group ? `${kind}.${group}` : kind} is not supported (only Service)` });
    if (namespace !== routeNamespace && !granted(mesh, routeKind, routeNamespace, namespace, name)) {
      return unresolved({ reason: "RefNotPermitted", message: `backend Service ${namespace}/${name} is in another namespace and no ReferenceGrant there allows ${routeKind}s from ${routeNamespace}` });
    }
    const key = `${namespace}/${serviceHostname(name, namespace, clusterDomain)}`;
    const svc = services.get(key);
    if (!svc) return unresolved({ reason: "BackendNotFound", message: `backend Service ${namespace}/${name} not found` });
    const port = portNumber(ref.port) ?? 0;
    if (!(port in svc.ports)) return unresolved({ reason: "BackendNotFound", message: `backend Service ${namespace}/${name} has no port ${port}` });
    return { backend: { kind: "service", service: key, port } };
  };
}

function granted(mesh: MeshObjects, routeKind: string, from: string, to: string, name: string): boolean {
  return mesh.referenceGrants.some((g) => {
    if (g.metadata.namespace !== to) return false;
    const s = spec(g);
    const fromOk = arr(s.from).map(rec).some((f) => str(f.group) === GATEWAY_GROUP && str(f.kind) === routeKind && str(f.namespace) === from);
    const toOk = arr(s.to).map(rec).some((t) => (str(t.group) ?? "") === "" && str(t.kind) === "Service" && (str(t.name) === undefined || str(t.name) === name));
    return fromOk && toOk;
  });
}
