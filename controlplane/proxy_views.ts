// Per-proxy xDS views. Every ztunnel gets the same map (so the xDS server works
// out each change's delta once and shares it); it never holds L7 config. A
// waypoint gets only what it serves: its ServiceRoutes, those Services and the
// ones their routes send to (or mirror to), and the endpoints of all of them;
// of the other mesh workloads, only the metadata its request metrics name the
// caller by (waypoint_callers.ts).
// Views are built once per translation and reused for every stream of that
// waypoint; versions are content hashes, so an unrelated change leaves a
// waypoint's view equal and the server sends it nothing.
import type { DesiredResources } from "../xds/server.ts";
import { resourceVersion, SERVICE_ROUTES_TYPE_URL, TYPE_URLS, type TypeUrl, type XdsNode, type XdsResource } from "../xds/protocol.ts";
import type { ServiceRoutes } from "../xds/waypoint_resources.ts";
import type { ExtAuthzHttpProvider, ServiceL7Policy } from "../xds/l7_policy_resources.ts";
import { EXT_AUTHZ_PROVIDER_TYPE_URL, SERVICE_L7_POLICY_TYPE_URL } from "../xds/l7_policy_resource_schemas.ts";
import { SERVICE_TELEMETRY_TYPE_URL, type ServiceTelemetry } from "../xds/telemetry_resources.ts";
import { waypointWorkloads } from "./waypoint_callers.ts";

// The L7 security types are waypoint-only, like ServiceRoutes; the server keys its maps by type URL.
const L7_POLICY = SERVICE_L7_POLICY_TYPE_URL as unknown as TypeUrl;
const EXT_AUTHZ = EXT_AUTHZ_PROVIDER_TYPE_URL as unknown as TypeUrl;
const TELEMETRY = SERVICE_TELEMETRY_TYPE_URL as unknown as TypeUrl;

/** The waypoint ("namespace/name") a stream subscribes for, or undefined for a ztunnel. */
export function waypointOf(node: XdsNode): string | undefined {
  return node.metadata?.role === "waypoint" ? node.metadata.waypoint ?? "" : undefined;
}

/** The Service keys a waypoint's view holds: those it serves and those their rules send or mirror to. */
export function servicesReached(routes: readonly ServiceRoutes[]): Set<string> {
  const keys = new Set<string>();
  for (const r of routes) {
    keys.add(r.service);
    for (const rule of r.rules) {
      const filters = [...rule.filters, ...rule.backends.flatMap((b) => b.filters)];
      for (const b of rule.backends) if (b.backend.kind === "service") keys.add(b.backend.service);
      for (const f of filters) if (f.type === "RequestMirror" && f.requestMirror.backend.kind === "service") keys.add(f.requestMirror.backend.service);
    }
  }
  return keys;
}

/** The views of one translation. */
export class ProxyViews {
  readonly #waypoints = new Map<string, DesiredResources>();
  readonly #routesByWaypoint = new Map<string, ServiceRoutes[]>();

  /**
   * @param ztunnel the shared map every ztunnel gets (workload, service, authorization, trust bundle)
   * @param l7 each waypoint's L7 security (RequestAuthentication, L7 AuthorizationPolicy, rate limits) by Service
   * @param extAuthzProviders the mesh config's ext_authz providers, which every waypoint gets
   * @param telemetry each waypoint's tracing and access logging (Telemetry API) by Service
   */
  constructor(
    private readonly ztunnel: DesiredResources,
    routes: readonly ServiceRoutes[],
    private readonly l7: ReadonlyMap<string, readonly ServiceL7Policy[]> = new Map(),
    private readonly extAuthzProviders: readonly ExtAuthzHttpProvider[] = [],
    private readonly telemetry: ReadonlyMap<string, readonly ServiceTelemetry[]> = new Map(),
  ) {
    for (const r of routes) this.#routesByWaypoint.set(r.waypoint, [...(this.#routesByWaypoint.get(r.waypoint) ?? []), r]);
  }

  /** What this stream's proxy should have. */
  for(node: XdsNode): DesiredResources {
    const waypoint = waypointOf(node);
    return waypoint === undefined ? this.ztunnel : this.waypoint(waypoint);
  }

  /** The view of waypoint "namespace/name" (empty when it serves nothing). */
  waypoint(key: string): DesiredResources {
    const cached = this.#waypoints.get(key);
    if (cached) return cached;
    const routes = this.#routesByWaypoint.get(key) ?? [];
    const reached = servicesReached(routes);
    const pick = (type: TypeUrl, keep: (r: XdsResource) => boolean) =>
      new Map([...(this.ztunnel.get(type) ?? new Map<string, XdsResource>())].filter(([, r]) => keep(r)));
    const view: DesiredResources = new Map<TypeUrl, ReadonlyMap<string, XdsResource>>([
      [TYPE_URLS.service, pick(TYPE_URLS.service, (r) => reached.has(r.name))],
      [TYPE_URLS.workload, waypointWorkloads(this.ztunnel.get(TYPE_URLS.workload) ?? new Map(), (w) => Object.keys(w.services).some((s) => reached.has(s)))],
      [TYPE_URLS.trustBundle, this.ztunnel.get(TYPE_URLS.trustBundle) ?? new Map()],
      [SERVICE_ROUTES_TYPE_URL, new Map(routes.map((r) => [r.service, { name: r.service, version: resourceVersion(r), resource: r }]))],
      [L7_POLICY, new Map((this.l7.get(key) ?? []).map((p) => [p.service, { name: p.service, version: resourceVersion(p), resource: p }]))],
      [EXT_AUTHZ, new Map(this.extAuthzProviders.map((p) => [p.name, { name: p.name, version: resourceVersion(p), resource: p }]))],
      [TELEMETRY, new Map((this.telemetry.get(key) ?? []).map((t) => [t.service, { name: t.service, version: resourceVersion(t), resource: t }]))],
    ]);
    this.#waypoints.set(key, view);
    return view;
  }

  /** Every waypoint that serves something, with the Services it serves. */
  served(): { waypoint: string; services: string[] }[] {
    return [...this.#routesByWaypoint].map(([waypoint, routes]) => ({ waypoint, services: routes.map((r) => r.service) }));
  }
}
