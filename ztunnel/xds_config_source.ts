// The controlplane-backed config source: a delta-xDS subscription whose
// resources are checked one by one (NACKing, by name, what cannot be applied)
// and assembled into the same DataPlaneSnapshot the local file produces.
import { randomUUID } from "node:crypto";
import { DeltaXdsClient, type XdsClientObserver } from "../xds/client.ts";
import { ALL_TYPE_URLS, TYPE_URLS, type TypeUrl, type XdsResource } from "../xds/protocol.ts";
import { authorizationSchema, checkResource, serviceSchema, trustBundleSchema, workloadSchema } from "../xds/resource_schemas.ts";
import type { Authorization, DataPlaneSnapshot, Service, Workload } from "../xds/resources.ts";
import type { Logger } from "../telemetry/mod.ts";
import type { ControlplaneSession } from "./controlplane_session.ts";
import { revokedSerialSet } from "./revoked_serials.ts";

const SCHEMAS = {
  [TYPE_URLS.workload]: workloadSchema,
  [TYPE_URLS.service]: serviceSchema,
  [TYPE_URLS.authorization]: authorizationSchema,
  [TYPE_URLS.trustBundle]: trustBundleSchema,
} as const;

/** Options for {@link XdsConfigSource}. */
export interface XdsConfigSourceOptions {
  readonly session: ControlplaneSession;
  readonly address: string;
  /** Where this node's /metrics listens, told to the controlplane for Prometheus discovery. */
  readonly metricsPort?: number;
  readonly log: Logger;
  readonly onSnapshot: (snapshot: DataPlaneSnapshot) => void;
  /** The revoked certificate serials (normalised) after each TrustBundle update. */
  readonly onRevokedSerials?: (serials: ReadonlySet<string>) => void;
  /** Metrics hooks, shared by every client this source makes. */
  readonly observer?: XdsClientObserver;
}

/** Keeps this node's state in sync with the controlplane. */
export class XdsConfigSource {
  readonly #resources = new Map<TypeUrl, Map<string, unknown>>(ALL_TYPE_URLS.map((t) => [t, new Map()]));
  #client: DeltaXdsClient | undefined;
  #renewTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  readonly #nodeId = `ztunnel~${randomUUID().slice(0, 8)}`;

  constructor(private readonly options: XdsConfigSourceOptions) {}

  /** The xDS client, for readiness and the admin API. */
  get client(): DeltaXdsClient | undefined {
    return this.#client;
  }

  /** Joins (if needed) and subscribes; renews the node certificate (with itself) at its half life. */
  async start(): Promise<void> {
    await this.options.session.join();
    this.#subscribe();
    this.#scheduleRenewal();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#renewTimer);
    this.#client?.stop();
    this.options.session.close();
  }

  #subscribe(): void {
    const previous = this.#client;
    const client = new DeltaXdsClient({
      // Replicas in turn, starting where the node joined; each stream resumes from the versions held.
      url: this.options.session.preferredUrls[0]!,
      fallbackUrls: this.options.session.preferredUrls.slice(1),
      tls: this.options.session.tls,
      node: { id: this.#nodeId, nodeName: this.options.session.endpoint.node, ips: [this.options.address], metadata: { role: "ztunnel", metricsPort: String(this.options.metricsPort ?? 15020) } },
      types: ALL_TYPE_URLS,
      apply: (type, resources, removed) => this.#apply(type, resources, removed),
      onEvent: (event, fields) => this.options.log.info("xds", event, fields),
      observer: this.options.observer,
      // A renewed node certificate means a new client; it resumes from what the old one held.
      initialVersions: previous && new Map(ALL_TYPE_URLS.map((t) => [t, previous.versions(t)])),
    });
    previous?.stop();
    this.#client = client;
    void client.run();
  }

  #scheduleRenewal(): void {
    const at = this.options.session.renewAt;
    if (!at || this.#stopped) return;
    this.#renewTimer = setTimeout(async () => {
      try {
        await this.options.session.join();
        this.#subscribe();
      } catch (e) {
        this.options.log.warn("xds", "node certificate renewal failed; retrying", { error: (e as Error).message });
      }
      this.#scheduleRenewal();
    }, Math.max(1000, at.getTime() - Date.now()));
    (this.#renewTimer as { unref?: () => void }).unref?.();
  }

  #apply(type: TypeUrl, resources: readonly XdsResource[], removed: readonly string[]) {
    const store = this.#resources.get(type)!;
    const schema = SCHEMAS[type as keyof typeof SCHEMAS];
    const failed: { name: string; message: string }[] = [];
    for (const r of resources) {
      const checked = checkResource(schema as never, r.resource);
      if (!checked.ok) {
        failed.push({ name: r.name, message: checked.message });
        this.options.log.warn("xds", "resource rejected", { type, name: r.name, error: checked.message });
        continue;
      }
      store.set(r.name, checked.value);
    }
    for (const name of removed) store.delete(name);
    if (type === TYPE_URLS.trustBundle) {
      const roots = [...store.values()].flatMap((b) => (b as { rootsPem: string[] }).rootsPem);
      if (roots.length) this.options.session.trustBundle = roots;
      this.options.onRevokedSerials?.(revokedSerialSet([...store.values()].flatMap((b) => (b as { revokedSerials?: string[] }).revokedSerials ?? [])));
    }
    this.options.onSnapshot(this.snapshot());
    return { failed };
  }

  /** The current state as a snapshot. */
  snapshot(): DataPlaneSnapshot {
    return {
      workloads: [...this.#resources.get(TYPE_URLS.workload)!.values()] as Workload[],
      services: [...this.#resources.get(TYPE_URLS.service)!.values()] as Service[],
      policies: [...this.#resources.get(TYPE_URLS.authorization)!.values()] as Authorization[],
    };
  }
}
