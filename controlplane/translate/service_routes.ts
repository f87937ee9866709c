/**
 * HTTPRoutes and GRPCRoutes with mesh parentRefs → one ServiceRoutes per
 * (waypoint, Service it serves), the resources only that waypoint receives
 * (xds/waypoint_resources.ts), plus each route's `status.parents` as Gateway API
 * defines it (Accepted, ResolvedRefs). A Service served by a primary and a
 * canary waypoint has a ServiceRoutes in each one's view.
 *
 * @module
 */
import type { Condition, KubeObject } from "../../config/objects.ts";
import { describeObject, objectKey } from "../../config/objects.ts";
import type { Service } from "../../xds/resources.ts";
import { serviceKey } from "../../xds/resources.ts";
import type { PortProtocol, RouteEntry, RouteRule, ServiceRoutes } from "../../xds/waypoint_resources.ts";
import { hostnamesOf, isMeshService, isMeshServiceEntry } from "./_kube_service.ts";
import { groupObjects, type MeshObjects } from "./_objects.ts";
import { arr, rec, spec, str } from "./_read.ts";
import { allowedByListeners, backendResolver, serviceParent } from "./_route_attachment.ts";
import { type TranslatedRule, translateRouteRules } from "./_route_rules.ts";
import type { ObjectWarning, TranslateOptions } from "./_types.ts";
import { serviceBindings } from "./_waypoint_canary.ts";
import { collectWaypoints, type Waypoints } from "./_waypoints.ts";
import { orderMatches, type RankedMatch } from "./route_precedence.ts";

/** Who writes the route statuses (Gateway API `controllerName`). */
export const ROUTE_CONTROLLER_NAME = "ambit.dev/waypoint-controller";

/** One entry of a route's `status.parents`. */
export interface RouteParentStatus {
  readonly parentRef: { readonly group: string; readonly kind: string; readonly namespace: string; readonly name: string; readonly port?: number };
  readonly controllerName: string;
  readonly conditions: readonly Condition[];
}

export interface ServiceRoutesTranslation {
  /** Sorted by waypoint, then service. */
  readonly routes: readonly ServiceRoutes[];
  /** `status.parents` by store key of the HTTPRoute or GRPCRoute. */
  readonly routeStatuses: ReadonlyMap<string, readonly RouteParentStatus[]>;
  readonly warnings: readonly ObjectWarning[];
}

interface Attached {
  readonly route: KubeObject;
  readonly rules: readonly TranslatedRule[];
  readonly port?: number;
}

/** Translates the routes among `objects` against the Services translation produced. */
export function translateServiceRoutes(
  objects: readonly KubeObject[],
  services: readonly Service[],
  options: Pick<TranslateOptions, "clusterDomain" | "trustDomain">,
): ServiceRoutesTranslation {
  const mesh = groupObjects(objects);
  const waypoints = collectWaypoints(mesh, options.clusterDomain, options.trustDomain);
  const known = new Map(services.map((s) => [serviceKey(s), s]));
  const served = servedServices(mesh, waypoints, known, options.clusterDomain);
  const attached = new Map<string, Attached[]>(); // "waypoint\0service" → routes
  const routeStatuses = new Map<string, RouteParentStatus[]>();
  const warnings: ObjectWarning[] = [];

  for (const route of [...mesh.httpRoutes, ...mesh.grpcRoutes]) {
    const routeNs = route.metadata.namespace ?? "";
    const rules = translateRouteRules(route, backendResolver(route.kind, known, mesh, options.clusterDomain));
    const problems = rules.flatMap((r) => r.problems);
    const parents: RouteParentStatus[] = [];
    for (const ref of arr(spec(route).parentRefs).map(rec)) {
      const parent = serviceParent(ref, routeNs);
      if (!parent) continue;
      const key = `${parent.namespace}/${hostnamesOf({ kind: "Service", apiVersion: "v1", metadata: { name: parent.name, namespace: parent.namespace } }, options.clusterDomain)[0]}`;
      const svc = known.get(key);
      const waypointsOf = served.get(key) ?? [];
      let accepted: Omit<Condition, "type">;
      if (!svc) accepted = refused("NoMatchingParent", `Service ${parent.namespace}/${parent.name} not found in the mesh`);
      else if (parent.port !== undefined && !(parent.port in svc.ports)) accepted = refused("NoMatchingParent", `Service ${parent.namespace}/${parent.name} has no port ${parent.port}`);
      else if (parent.namespace !== routeNs) {
        accepted = refused("UnsupportedValue", `a route in namespace ${routeNs} for Service ${parent.namespace}/${parent.name} is a consumer route; Ambit supports producer routes only (same namespace)`);
      } else if (waypointsOf.length === 0) {
        accepted = refused("NoMatchingParent", `no waypoint serves Service ${parent.namespace}/${parent.name} (label istio.io/use-waypoint): the route has no effect`);
      } else {
        const refusals = waypointsOf.map((w) => allowedByListeners(w.gateway, route, mesh));
        waypointsOf.forEach((w, i) => {
          if (refusals[i] !== undefined) return;
          const k = `${w.namespace}/${w.name}\u0000${key}`;
          attached.set(k, [...(attached.get(k) ?? []), { route, rules, ...(parent.port !== undefined ? { port: parent.port } : {}) }]);
        });
        accepted = refusals.every((r) => r !== undefined)
          ? refused("NotAllowedByListeners", refusals.join("; "))
          : { status: "True", reason: "Accepted", message: `attached to Service ${parent.namespace}/${parent.name} at waypoint ${waypointsOf.filter((_, i) => refusals[i] === undefined).map((w) => `${w.namespace}/${w.name}`).join(", ")}` };
      }
      if (accepted.status === "False") warnings.push({ object: describeObject(route), message: accepted.message });
      const resolved: Omit<Condition, "type"> = problems.length === 0
        ? { status: "True", reason: "ResolvedRefs", message: "all references resolved" }
        : { status: "False", reason: problems[0]!.reason, message: problems.map((p) => p.message).join("; ") };
      const generation = typeof route.metadata.generation === "number" ? { observedGeneration: route.metadata.generation } : {};
      parents.push({
        parentRef: { group: "", kind: "Service", namespace: parent.namespace, name: parent.name, ...(parent.port !== undefined ? { port: parent.port } : {}) },
        controllerName: ROUTE_CONTROLLER_NAME,
        conditions: [{ type: "Accepted", ...accepted, ...generation }, { type: "ResolvedRefs", ...resolved, ...generation }],
      });
    }
    for (const p of problems) warnings.push({ object: describeObject(route), message: p.message });
    if (parents.length > 0) routeStatuses.set(objectKey(route), parents);
  }

  const routes: ServiceRoutes[] = [];
  for (const [key, list] of served) {
    const svc = known.get(key)!;
    for (const w of list) {
      const waypoint = `${w.namespace}/${w.name}`;
      routes.push(buildServiceRoutes(key, waypoint, svc, w.object, attached.get(`${waypoint}\u0000${key}`) ?? []));
    }
  }
  routes.sort((a, b) => compare(a.waypoint, b.waypoint) || compare(a.service, b.service));
  return { routes, routeStatuses, warnings };
}

const refused = (reason: string, message: string): Omit<Condition, "type"> => ({ status: "False", reason, message });
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

type ServedBy = { readonly namespace: string; readonly name: string; readonly gateway: KubeObject; readonly object: KubeObject };

/** Service key → the waypoints serving it (primary first, then the canary). */
function servedServices(mesh: MeshObjects, waypoints: Waypoints, known: ReadonlyMap<string, Service>, clusterDomain: string): Map<string, ServedBy[]> {
  const out = new Map<string, ServedBy[]>();
  for (const o of [...mesh.services.filter(isMeshService), ...mesh.serviceEntries.filter(isMeshServiceEntry)]) {
    const { primary, canary } = serviceBindings(o, mesh, waypoints);
    const keys = [primary.waypoint, canary?.waypoint].filter((k): k is string => !!k);
    if (keys.length === 0) continue;
    const by = keys.map((k) => waypoints.get(k)!).map((w) => ({ namespace: w.namespace, name: w.name, gateway: w.gateway, object: o }));
    for (const host of hostnamesOf(o, clusterDomain)) {
      const key = `${o.metadata.namespace ?? ""}/${host}`;
      if (known.has(key) && !out.has(key)) out.set(key, by);
    }
  }
  return out;
}

function buildServiceRoutes(key: string, waypoint: string, svc: Service, object: KubeObject, attached: readonly Attached[]): ServiceRoutes {
  const rules: RouteRule[] = [];
  const ranked: (RankedMatch & { rule: number; port?: number })[] = [];
  for (const a of attached) {
    a.rules.forEach((t, ruleIndex) => {
      const index = rules.push(t.rule) - 1;
      t.matches.forEach((match, matchIndex) => {
        ranked.push({
          match, rule: index, ruleIndex, matchIndex,
          namespace: a.route.metadata.namespace ?? "", name: a.route.metadata.name,
          ...(a.route.metadata.creationTimestamp ? { createdAt: String(a.route.metadata.creationTimestamp) } : {}),
          ...(a.port !== undefined ? { port: a.port } : {}),
        });
      });
    });
  }
  const routes: RouteEntry[] = orderMatches(ranked).map((r) => ({ match: r.match, rule: r.rule, ...(r.port !== undefined ? { port: r.port } : {}) }));
  return { service: key, waypoint, protocols: portProtocols(object, svc), routes, rules };
}

/** Istio's protocol selection: `appProtocol`, else the port name's prefix (`http-`, `grpc-`…); default HTTP. */
export function portProtocols(object: KubeObject, svc: Service): Record<number, PortProtocol> {
  const out: Record<number, PortProtocol> = {};
  const specPorts = arr(spec(object).ports).map(rec);
  for (const port of Object.keys(svc.ports).map(Number)) {
    const p = specPorts.find((x) => Number(x.port ?? x.number) === port) ?? {};
    // A Service's `protocol` is the L4 one (TCP); a ServiceEntry's names the application protocol.
    const declared = (str(p.appProtocol) ?? (object.kind === "ServiceEntry" ? str(p.protocol) : undefined) ?? str(p.name)?.split("-")[0] ?? "").toLowerCase();
    out[port] = declared === "grpc" || declared === "grpc-web" ? "GRPC"
      : declared === "http2" || declared === "h2c" || declared === "kubernetes.io/h2c" ? "HTTP2"
      : declared === "tcp" || declared === "tls" || declared === "mongo" || declared === "redis" || declared === "mysql" ? "TCP"
      : "HTTP";
  }
  return out;
}
