import { isIP } from "node:net";
import type { Authorization, DataPlaneSnapshot, Service, Workload } from "../xds/resources.ts";
import { namespacedKey, serviceKey } from "../xds/resources.ts";

/** A workload that backs a service, with the port map it declared. */
export interface Endpoint {
  readonly workload: Workload;
  readonly ports: Readonly<Record<number, number>>;
}

/**
 * Everything this ztunnel knows, indexed for the data path. Immutable: a new
 * snapshot builds a new ProxyState, and the holder swaps it in one assignment,
 * so a connection never sees half an update.
 */
export class ProxyState {
  readonly snapshot: DataPlaneSnapshot;
  readonly #byAddress = new Map<string, Workload>();
  readonly #byUid = new Map<string, Workload>();
  readonly #serviceByVip = new Map<string, Service>();
  readonly #serviceByKey = new Map<string, Service>();
  readonly #serviceByHost = new Map<string, Service>();
  readonly #endpoints = new Map<string, Endpoint[]>();
  readonly #policies = new Map<string, Authorization>();
  readonly #policiesByNamespace = new Map<string, Authorization[]>();
  readonly #policiesByWorkload = new Map<string, Authorization[]>();

  constructor(snapshot: DataPlaneSnapshot, readonly clusterDomain = "cluster.local") {
    this.snapshot = snapshot;
    for (const w of snapshot.workloads) {
      this.#byUid.set(w.uid, w);
      if (w.networkMode !== "HOST_NETWORK") for (const a of w.addresses) this.#byAddress.set(addrKey(w.network, normalizeIp(a)), w);
      for (const key of Object.keys(w.services)) {
        const list = this.#endpoints.get(key) ?? [];
        list.push({ workload: w, ports: w.services[key]! });
        this.#endpoints.set(key, list);
      }
    }
    for (const s of snapshot.services) {
      this.#serviceByKey.set(serviceKey(s), s);
      for (const v of s.vips) this.#serviceByVip.set(addrKey(v.network, normalizeIp(v.address)), s);
      for (const host of hostAliases(s, clusterDomain)) if (!this.#serviceByHost.has(host)) this.#serviceByHost.set(host, s);
    }
    for (const p of snapshot.policies) {
      this.#policies.set(namespacedKey(p), p);
      const ns = p.scope === "GLOBAL" ? "" : p.scope === "NAMESPACE" ? p.namespace : undefined;
      if (ns === undefined) continue;
      const list = this.#policiesByNamespace.get(ns) ?? [];
      list.push(p);
      this.#policiesByNamespace.set(ns, list);
    }
  }

  /** The workload with this address on this network. */
  findWorkload(address: string, network = ""): Workload | undefined {
    return this.#byAddress.get(addrKey(network, normalizeIp(address)));
  }

  findWorkloadByUid(uid: string): Workload | undefined {
    return this.#byUid.get(uid);
  }

  /** The service with this VIP. */
  findServiceByVip(address: string, network = ""): Service | undefined {
    return this.#serviceByVip.get(addrKey(network, normalizeIp(address)));
  }

  /** The service by hostname: its own hostname, `name.ns.svc.<domain>`, `name.ns.svc` or `name.ns`. */
  findServiceByHostname(hostname: string): Service | undefined {
    return this.#serviceByHost.get(hostname.toLowerCase().replace(/\.$/, ""));
  }

  findService(namespace: string, hostname: string): Service | undefined {
    return this.#serviceByKey.get(`${namespace}/${hostname}`);
  }

  /** Workloads backing a service (healthy or not). */
  endpointsOf(service: Service): readonly Endpoint[] {
    return this.#endpoints.get(serviceKey(service)) ?? [];
  }

  /** Services a workload backs. */
  servicesOf(workload: Workload): Service[] {
    return Object.keys(workload.services).map((k) => this.#serviceByKey.get(k)).filter((s): s is Service => !!s);
  }

  /** Workloads whose ztunnel is `node`. */
  workloadsOnNode(node: string): Workload[] {
    return this.snapshot.workloads.filter((w) => w.node === node);
  }

  /** Policies that apply to a workload: global, its namespace's, and those selecting it. */
  policiesFor(workload: Workload): Authorization[] {
    // The state never changes, so each workload's list is built once and reused.
    const cached = this.#policiesByWorkload.get(workload.uid);
    if (cached) return cached;
    const out = [...(this.#policiesByNamespace.get("") ?? []), ...(this.#policiesByNamespace.get(workload.namespace) ?? [])];
    for (const key of workload.authorizationPolicies) {
      const p = this.#policies.get(key);
      if (p && !out.includes(p)) out.push(p);
    }
    this.#policiesByWorkload.set(workload.uid, out);
    return out;
  }
}

/** An empty state: what a ztunnel holds before its first config. */
export const EMPTY_STATE = new ProxyState({ workloads: [], services: [], policies: [] });

function addrKey(network: string, address: string): string {
  return `${network}/${address}`;
}

function normalizeIp(address: string): string {
  // IPv4-mapped IPv6 (as sockets report it) is the IPv4 address.
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : isIP(address) === 6 ? address.toLowerCase() : address;
}

function hostAliases(s: Service, domain: string): string[] {
  const host = s.hostname.toLowerCase();
  const aliases = [host];
  const suffix = `.${s.namespace}.svc.${domain}`;
  if (host.endsWith(suffix)) {
    const name = host.slice(0, -suffix.length);
    aliases.push(`${name}.${s.namespace}.svc`, `${name}.${s.namespace}`);
  }
  return aliases;
}
