// What the waypoint knows at one moment, indexed for the request path: the
// Service a tunnel's authority (VIP:port) names, its route table, and the
// endpoints of a backend Service port. Rebuilt whole on every config change;
// requests in flight keep the state they started with.
import { namespacedKey, type Service, serviceKey, type Workload } from "../xds/resources.ts";
import type { PortProtocol, ServiceRoutes, WaypointSnapshot } from "../xds/waypoint_resources.ts";

/** One endpoint of a Service port: a workload address and the port it listens on. */
export interface Endpoint {
  readonly workload: Workload;
  readonly address: string;
  readonly port: number;
  /** `address:port`, the load balancer's key. */
  readonly key: string;
}

/** The Service (and port) a tunnel's authority names. */
export interface ServiceTarget {
  readonly service: Service;
  readonly key: string;
  readonly port: number;
}

/** An immutable, indexed view of one {@link WaypointSnapshot}. */
export class WaypointState {
  readonly #byVip = new Map<string, Service>();
  readonly #byHost = new Map<string, Service>();
  readonly #byKey = new Map<string, Service>();
  readonly #routes = new Map<string, ServiceRoutes>();
  readonly #endpoints = new Map<string, Endpoint[]>();
  readonly #workloadsByAddress = new Map<string, Workload>();
  readonly #workloadsByName = new Map<string, Workload[]>();

  constructor(readonly snapshot: WaypointSnapshot) {
    for (const s of snapshot.services) {
      const key = serviceKey(s);
      this.#byKey.set(key, s);
      this.#byHost.set(s.hostname, s);
      for (const vip of s.vips) this.#byVip.set(vip.address, s);
    }
    for (const r of snapshot.routes) this.#routes.set(r.service, r);
    for (const w of snapshot.workloads) {
      for (const a of w.addresses) this.#workloadsByAddress.set(a, w);
      const name = `${w.namespace}/${w.workloadName || w.name}`;
      this.#workloadsByName.set(name, [...(this.#workloadsByName.get(name) ?? []), w]);
    }
  }

  /** The Service at `host:port` (a VIP, or a host name); undefined when this waypoint does not know it. */
  findService(host: string, port: number): ServiceTarget | undefined {
    const service = this.#byVip.get(host) ?? this.#byHost.get(host);
    if (!service || service.ports[port] === undefined) return undefined;
    return { service, key: serviceKey(service), port };
  }

  /** A Service by its key, "namespace/hostname". */
  serviceByKey(key: string): Service | undefined {
    return this.#byKey.get(key);
  }

  /** The route table of a Service, if routes are attached to it. */
  routesFor(key: string): ServiceRoutes | undefined {
    return this.#routes.get(key);
  }

  /** How a Service port is parsed (HTTP unless said otherwise). */
  protocolOf(key: string, port: number): PortProtocol {
    return this.#routes.get(key)?.protocols[port] ?? "HTTP";
  }

  /** The workload at an address (the source of a request), if known. */
  workloadAt(address: string): Workload | undefined {
    return this.#workloadsByAddress.get(address);
  }

  /** The workloads (pods of one Deployment, say) with this workload name in `namespace`. */
  workloadsNamed(namespace: string, workloadName: string): readonly Workload[] {
    return this.#workloadsByName.get(`${namespace}/${workloadName}`) ?? [];
  }

  /** Every endpoint of a Service port, healthy or not. */
  endpoints(key: string, port: number): readonly Endpoint[] {
    const cacheKey = `${key}:${port}`;
    let list = this.#endpoints.get(cacheKey);
    if (list) return list;
    const service = this.#byKey.get(key);
    const servicePortTarget = service?.ports[port];
    list = [];
    if (service && servicePortTarget !== undefined) {
      for (const w of this.snapshot.workloads) {
        const ports = w.services[key];
        if (!ports) continue;
        const target = ports[port] || servicePortTarget || port;
        const address = w.addresses[0];
        if (address) list.push({ workload: w, address, port: target, key: `${address}:${target}` });
      }
    }
    this.#endpoints.set(cacheKey, list);
    return list;
  }

  /** "namespace/name" of each service, for logs. */
  serviceNames(): string[] {
    return [...this.#byKey.values()].map(namespacedKey);
  }
}

/** The state before any config arrives. */
export const EMPTY_WAYPOINT_STATE = new WaypointState({ services: [], workloads: [], routes: [] });
