// The translated view of the store: recomputed whenever the store changes, and
// turned into per-type xDS resources (with versions) once per change, not once
// per connected node.
import type { Condition, KubeObject } from "../config/objects.ts";
import type { DesiredResources } from "../xds/server.ts";
import { resourceVersion, TYPE_URLS, type TypeUrl, type XdsResource } from "../xds/protocol.ts";
import type { DataPlaneSnapshot } from "../xds/resources.ts";
import { namespacedKey, serviceKey } from "../xds/resources.ts";
import { translate, vipAllocator } from "./translate/mod.ts";

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
}

/** The current translation and its xDS form. */
export class DataPlane {
  #snapshot: DataPlaneSnapshot = { workloads: [], services: [], policies: [] };
  #statuses = new Map<string, Condition[]>();
  #warnings: { object: string; message: string }[] = [];
  #desired: DesiredResources = new Map();
  #generation = 0;
  readonly #allocateVip: (key: string) => string;

  constructor(private readonly options: DataPlaneOptions) {
    this.#allocateVip = options.allocateVip ?? vipAllocator(options.vipRange);
  }

  /** Re-translates from the store's objects. */
  update(objects: readonly KubeObject[]): void {
    const result = translate(objects, {
      trustDomain: this.options.trustDomain,
      clusterDomain: this.options.clusterDomain,
      clusterId: this.options.clusterId,
      rootNamespace: this.options.rootNamespace,
      allocateVip: this.#allocateVip,
    });
    this.#snapshot = result.snapshot;
    this.#statuses = result.statuses;
    this.#warnings = result.warnings;
    this.#generation++;
    const index = <T>(items: readonly T[], name: (t: T) => string) =>
      new Map(items.map((r) => [name(r), { name: name(r), version: resourceVersion(r), resource: r } as XdsResource]));
    const roots = { rootsPem: this.options.trustBundle() };
    this.#desired = new Map<TypeUrl, Map<string, XdsResource>>([
      [TYPE_URLS.workload, index(result.snapshot.workloads, (w) => w.uid)],
      [TYPE_URLS.service, index(result.snapshot.services, serviceKey)],
      [TYPE_URLS.authorization, index(result.snapshot.policies, namespacedKey)],
      [TYPE_URLS.trustBundle, new Map([["roots", { name: "roots", version: resourceVersion(roots), resource: roots }]])],
    ]);
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

  /** Every node gets the whole mesh: ztunnel needs remote workloads and services to route to them. */
  desired(): DesiredResources {
    return this.#desired;
  }
}
