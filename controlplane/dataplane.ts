// The translated view of the store: recomputed whenever the store changes, and
// turned into per-type xDS resources (with versions) once per change, not once
// per connected node.
import type { Condition, KubeObject } from "../config/objects.ts";
import type { DesiredResources } from "../xds/server.ts";
import { resourceVersion, TYPE_URLS, type TypeUrl, type XdsNode, type XdsResource } from "../xds/protocol.ts";
import type { ExtAuthzHttpProvider, ServiceL7Policy } from "../xds/l7_policy_resources.ts";
import type { DataPlaneSnapshot } from "../xds/resources.ts";
import { namespacedKey, serviceKey } from "../xds/resources.ts";
import type { ServiceRoutes } from "../xds/waypoint_resources.ts";
import { ProxyViews } from "./proxy_views.ts";
import { customProviderWarnings } from "./translate/custom_providers.ts";
import { type RouteParentStatus, translate, vipAllocator } from "./translate/mod.ts";
import { WorkloadMemo } from "./translate/workload_memo.ts";
import { translateTelemetry } from "./translate/telemetry.ts";
import type { MeshTracing } from "./translate/_tracing_providers.ts";
import type { ServiceTelemetry } from "../xds/telemetry_resources.ts";

/** Options for {@link DataPlane}. */
export interface DataPlaneOptions {
  readonly trustDomain: string;
  readonly clusterDomain: string;
  readonly clusterId: string;
  readonly rootNamespace: string;
  readonly vipRange: string;
  /** Where VIPs come from (default: in memory over vipRange; the controlplane's are persistent). */
  readonly allocateVip?: (key: string) => string;
  /** Roots ztunnels should trust (sent as the TrustBundle resource). */
  readonly trustBundle: () => readonly string[];
  /** Serials of revoked nodes' unexpired certificates (sent with the TrustBundle). */
  readonly revokedSerials?: () => readonly string[];
  /** The mesh config's `envoyExtAuthzHttp` providers (`--mesh-config`), sent to every waypoint. */
  readonly extAuthzProviders?: readonly ExtAuthzHttpProvider[];
  /** The mesh config's `opentelemetry` providers and default, which Telemetry resources name. */
  readonly meshTracing?: Pick<MeshTracing, "tracingProviders" | "defaultTracingProviders">;
}

/** The current translation and its xDS form. */
export class DataPlane {
  #snapshot: DataPlaneSnapshot = { workloads: [], services: [], policies: [] };
  #statuses = new Map<string, Condition[]>();
  #warnings: { object: string; message: string }[] = [];
  #desired: DesiredResources = new Map();
  #views = new ProxyViews(new Map(), []);
  #waypointPolicies: ReadonlyMap<string, readonly ServiceL7Policy[]> = new Map();
  #waypointTelemetry: ReadonlyMap<string, readonly ServiceTelemetry[]> = new Map();
  #serviceRoutes: readonly ServiceRoutes[] = [];
  #routeStatuses: ReadonlyMap<string, readonly RouteParentStatus[]> = new Map();
  #objects: readonly KubeObject[] = [];
  #generation = 0;
  readonly #allocateVip: (key: string) => string;
  /** Unchanged Pods keep their Workloads (and versions) from one translation to the next. */
  readonly #workloadMemo = new WorkloadMemo();
  readonly #versions = new WeakMap<object, string>();

  constructor(private readonly options: DataPlaneOptions) {
    this.#allocateVip = options.allocateVip ?? vipAllocator(options.vipRange);
  }

  /** Re-translates from the store's objects. */
  update(objects: readonly KubeObject[]): void {
    const result = translate(objects, { ...this.#translateOptions(this.#allocateVip), workloadMemo: this.#workloadMemo });
    const telemetry = this.#telemetry(objects);
    this.#waypointTelemetry = telemetry.byWaypoint;
    this.#snapshot = result.snapshot;
    this.#statuses = result.statuses;
    this.#warnings = [...result.warnings, ...telemetry.warnings, ...customProviderWarnings(objects, this.options.extAuthzProviders ?? [])];
    this.#serviceRoutes = result.serviceRoutes;
    this.#routeStatuses = result.routeStatuses;
    this.#objects = objects;
    this.#generation++;
    const index = <T>(items: readonly T[], name: (t: T) => string) =>
      new Map(items.map((r) => [name(r), { name: name(r), version: this.#versionOf(r as object), resource: r } as XdsResource]));
    this.#desired = new Map<TypeUrl, Map<string, XdsResource>>([
      [TYPE_URLS.workload, index(result.snapshot.workloads, (w) => w.uid)],
      [TYPE_URLS.service, index(result.snapshot.services, serviceKey)],
      [TYPE_URLS.authorization, index(result.snapshot.policies, namespacedKey)],
      [TYPE_URLS.trustBundle, this.#trustBundle()],
    ]);
    this.#waypointPolicies = result.waypointPolicies;
    this.#views = new ProxyViews(this.#desired, result.serviceRoutes, this.#waypointPolicies, this.options.extAuthzProviders ?? [], this.#waypointTelemetry);
  }

  /** A resource's version, hashed once per resource object: a Workload kept by the memo keeps its version too. */
  #versionOf(resource: object): string {
    let version = this.#versions.get(resource);
    if (version === undefined) this.#versions.set(resource, version = resourceVersion(resource));
    return version;
  }

  /** Re-reads the roots and revoked serials (after a node is revoked), keeping the rest. */
  refreshTrustBundle(): void {
    this.#desired = new Map([...this.#desired, [TYPE_URLS.trustBundle, this.#trustBundle()]]);
    // Views are built over the map streams are served from: rebuild them, or they keep the old bundle.
    this.#views = new ProxyViews(this.#desired, this.#serviceRoutes, this.#waypointPolicies, this.options.extAuthzProviders ?? [], this.#waypointTelemetry);
  }

  /**
   * The warnings a translation of `objects` would give, changing nothing (a dry run's answer): VIPs come from a
   * throwaway allocator, so a dry run never takes an address.
   */
  warningsFor(objects: readonly KubeObject[]): readonly { object: string; message: string }[] {
    const { warnings } = translate(objects, this.#translateOptions(vipAllocator(this.options.vipRange)));
    return [...warnings, ...this.#telemetry(objects).warnings, ...customProviderWarnings(objects, this.options.extAuthzProviders ?? [])];
  }

  #telemetry(objects: readonly KubeObject[]) {
    return translateTelemetry(objects, {
      clusterDomain: this.options.clusterDomain,
      rootNamespace: this.options.rootNamespace,
      mesh: this.options.meshTracing ?? { tracingProviders: [], defaultTracingProviders: [] },
    });
  }

  #translateOptions(allocateVip: (key: string) => string) {
    const { trustDomain, clusterDomain, clusterId, rootNamespace } = this.options;
    return { trustDomain, clusterDomain, clusterId, rootNamespace, allocateVip };
  }

  #trustBundle(): Map<string, XdsResource> {
    const revoked = this.options.revokedSerials?.() ?? [];
    const roots = { rootsPem: this.options.trustBundle(), ...(revoked.length ? { revokedSerials: [...revoked].sort() } : {}) };
    return new Map([["roots", { name: "roots", version: resourceVersion(roots), resource: roots }]]);
  }

  get snapshot(): DataPlaneSnapshot {
    return this.#snapshot;
  }

  get generation(): number {
    return this.#generation;
  }

  /** Status conditions computed for an object (by objectKey). */
  statusOf(key: string): Condition[] | undefined {
    return this.#statuses.get(key);
  }

  get warnings(): readonly { object: string; message: string }[] {
    return this.#warnings;
  }

  /**
   * What a proxy should have: every ztunnel the whole mesh (it needs remote workloads and services to
   * route to them) and no L7 config; a waypoint only what it serves (proxy_views.ts).
   */
  desired(node?: XdsNode): DesiredResources {
    return node ? this.#views.for(node) : this.#desired;
  }

  /** Every (waypoint, Service) ServiceRoutes of this translation. */
  get serviceRoutes(): readonly ServiceRoutes[] {
    return this.#serviceRoutes;
  }

  /** HTTPRoute / GRPCRoute `status.parents`, by store key. */
  routeStatusOf(key: string): readonly RouteParentStatus[] | undefined {
    return this.#routeStatuses.get(key);
  }

  /** The stored objects this translation was made from. */
  get objects(): readonly KubeObject[] {
    return this.#objects;
  }
}
