// Config source (b): the controlplane. The waypoint's certificate comes from
// `POST /ca/v1/certificates` naming its Gateway; state comes over delta xDS as
// Workload, Service and ServiceRoutes resources, each checked (and NACKed by
// name when it cannot be applied). Over TLS every call carries the waypoint's
// bearer token; the loopback dev endpoint (http://) takes none.
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import { createCertificateRequest, type SpiffeId, splitPemCertificates, summarizeLeaf, type WorkloadCertificate } from "../identity/mod.ts";
import { Http2Client, type Http2ClientTls } from "../runtime/mod.ts";
import type { Logger } from "../telemetry/mod.ts";
import { DeltaXdsClient } from "../xds/client.ts";
import { TYPE_URLS, type TypeUrl, type XdsResource } from "../xds/protocol.ts";
import { checkResource, serviceSchema, workloadSchema } from "../xds/resource_schemas.ts";
import type { Service, Workload } from "../xds/resources.ts";
import type { ExtAuthzHttpProvider, ServiceL7Policy } from "../xds/l7_policy_resources.ts";
import { EXT_AUTHZ_PROVIDER_TYPE_URL, extAuthzHttpProviderSchema, SERVICE_L7_POLICY_TYPE_URL, serviceL7PolicySchema } from "../xds/l7_policy_resource_schemas.ts";
import { SERVICE_ROUTES_TYPE_URL, serviceRoutesSchema } from "../xds/waypoint_resource_schemas.ts";
import type { ServiceRoutes, WaypointSnapshot } from "../xds/waypoint_resources.ts";
import { SERVICE_TELEMETRY_TYPE_URL, type ServiceTelemetry, serviceTelemetrySchema } from "../xds/telemetry_resources.ts";

// The xDS client's TypeUrl names the ztunnel's types; ServiceRoutes rides the same stream.
const ROUTES = SERVICE_ROUTES_TYPE_URL as unknown as TypeUrl;
// L7 security (xds/l7_policy_resources.ts): every Ambit xDS server answers a subscription, empty until it has some.
const L7_POLICIES = SERVICE_L7_POLICY_TYPE_URL as unknown as TypeUrl;
const EXT_AUTHZ = EXT_AUTHZ_PROVIDER_TYPE_URL as unknown as TypeUrl;
const TELEMETRY = SERVICE_TELEMETRY_TYPE_URL as unknown as TypeUrl;
const TYPES: readonly TypeUrl[] = [TYPE_URLS.workload, TYPE_URLS.service, ROUTES, L7_POLICIES, EXT_AUTHZ, TELEMETRY];
const SCHEMAS = new Map<TypeUrl, Parameters<typeof checkResource>[0]>([
  [TYPE_URLS.workload, workloadSchema],
  [TYPE_URLS.service, serviceSchema],
  [ROUTES, serviceRoutesSchema],
  [L7_POLICIES, serviceL7PolicySchema],
  [EXT_AUTHZ, extAuthzHttpProviderSchema],
  [TELEMETRY, serviceTelemetrySchema],
]);

/** Options for {@link ControlplaneSource}. */
export interface ControlplaneSourceOptions {
  readonly url: string;
  /** "namespace/name" of the waypoint Gateway. */
  readonly gateway: string;
  readonly node: string;
  /** The waypoint's own address and metrics port, told to the controlplane for Prometheus discovery. */
  readonly address?: string;
  readonly metricsPort?: number;
  readonly caFile?: string;
  readonly token?: string;
  readonly certTtlSeconds: number;
  readonly log: Logger;
  readonly onSnapshot: (snapshot: WaypointSnapshot) => void;
}

/** The waypoint's connection to its controlplane: certificate and state. */
export class ControlplaneSource {
  readonly #resources = new Map<TypeUrl, Map<string, unknown>>(TYPES.map((t) => [t, new Map()]));
  readonly #tls: Http2ClientTls | undefined;
  readonly #api: Http2Client;
  readonly #headers: Record<string, string>;
  #client: DeltaXdsClient | undefined;

  constructor(private readonly options: ControlplaneSourceOptions) {
    this.#tls = options.url.startsWith("https:") ? { ca: fs.readFileSync(options.caFile!, "utf8") } : undefined;
    this.#headers = options.token && this.#tls ? { authorization: `Bearer ${options.token}` } : {};
    this.#api = new Http2Client(options.url, this.#tls);
  }

  /** The xDS client, for readiness and the admin API. */
  get client(): DeltaXdsClient | undefined {
    return this.#client;
  }

  /** A certificate for the waypoint's own identity. */
  async issue(identity: SpiffeId): Promise<WorkloadCertificate> {
    const request = await createCertificateRequest(identity);
    const res = await this.#api.json<{ certChain: string[] }>("POST", "/ca/v1/certificates", {
      csr: request.csrPem,
      validitySeconds: this.options.certTtlSeconds,
      waypoint: this.options.gateway,
    }, this.#headers);
    const chainPem = res.certChain.flatMap(splitPemCertificates);
    const leaf = summarizeLeaf(chainPem[0]!);
    if (leaf.identity.namespace !== identity.namespace || leaf.identity.serviceAccount !== identity.serviceAccount || leaf.identity.trustDomain !== identity.trustDomain) {
      throw new Error("the CA issued a certificate for a different identity than requested");
    }
    return { ...leaf, identity, chainPem, privateKeyPem: request.key.privateKeyPem, trustBundlePem: [chainPem[chainPem.length - 1]!.trim() + "\n"] };
  }

  /** Subscribes; the client reconnects by itself. */
  start(): void {
    const client = new DeltaXdsClient({
      url: this.options.url,
      tls: this.#tls,
      headers: this.#headers,
      node: {
        id: `waypoint~${randomUUID().slice(0, 8)}`,
        nodeName: this.options.node,
        ips: this.options.address ? [this.options.address] : undefined,
        metadata: { role: "waypoint", waypoint: this.options.gateway, metricsPort: String(this.options.metricsPort ?? 15020) },
      },
      types: TYPES,
      apply: (type, resources, removed) => this.#apply(type, resources, removed),
      onEvent: (event, fields) => this.options.log.info("xds", event, fields),
    });
    this.#client = client;
    void client.run();
  }

  stop(): void {
    this.#client?.stop();
    this.#api.close();
  }

  #apply(type: TypeUrl, resources: readonly XdsResource[], removed: readonly string[]) {
    const store = this.#resources.get(type);
    const schema = SCHEMAS.get(type);
    if (!store || !schema) return { failed: resources.map((r) => ({ name: r.name, message: `not subscribed to ${type}` })) };
    const failed: { name: string; message: string }[] = [];
    for (const r of resources) {
      const checked = checkResource(schema, r.resource);
      if (!checked.ok) {
        failed.push({ name: r.name, message: checked.message });
        this.options.log.warn("xds", "resource rejected", { type, name: r.name, error: checked.message });
        continue;
      }
      store.set(r.name, checked.value);
    }
    for (const name of removed) store.delete(name);
    this.options.onSnapshot(this.snapshot());
    return { failed };
  }

  /** The current state. */
  snapshot(): WaypointSnapshot {
    return {
      workloads: [...this.#resources.get(TYPE_URLS.workload)!.values()] as Workload[],
      services: [...this.#resources.get(TYPE_URLS.service)!.values()] as Service[],
      routes: [...this.#resources.get(ROUTES)!.values()] as ServiceRoutes[],
      l7Policies: [...this.#resources.get(L7_POLICIES)!.values()] as ServiceL7Policy[],
      extAuthzProviders: [...this.#resources.get(EXT_AUTHZ)!.values()] as ExtAuthzHttpProvider[],
      telemetry: [...this.#resources.get(TELEMETRY)!.values()] as ServiceTelemetry[],
    };
  }
}
