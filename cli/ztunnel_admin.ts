/**
 * Reaching each ztunnel's admin API (docs/ztunnel.md: `<node address>:15000`).
 * Nodes are found through the controlplane's proxy-status (each stream names
 * its node and addresses), or given directly with `--node-address`.
 *
 * @example
 * ```ts
 * const nodes = await findNodes(flags, io);
 * const dump = await adminGet<ConfigDump>(nodes[0]!, "/config_dump", 15000);
 * ```
 * @module
 */
import type { Authorization, Service, Workload } from "../xds/resources.ts";
import type { Flags, FlagSpec } from "./args.ts";
import { CONTROLPLANE_FLAGS } from "./common_flags.ts";
import { controlplaneFromFlags, type ProxyStatus } from "./controlplane_client.ts";
import { CommandError } from "./errors.ts";
import type { Io } from "./io.ts";

/** Flags of commands that talk to ztunnels. */
export const NODE_FLAGS: readonly FlagSpec[] = [
  { name: "node", kind: "string", placeholder: "name", help: "only this node" },
  { name: "node-address", kind: "list", placeholder: "ip", help: "a ztunnel's node address; skips asking the controlplane for the nodes" },
  { name: "admin-port", kind: "number", default: 15000, help: "ztunnel admin port" },
  ...CONTROLPLANE_FLAGS,
];

/** A ztunnel to ask. */
export interface NodeTarget {
  readonly name: string;
  readonly address: string;
}

/** A ztunnel's /config_dump (the parts the CLI reads). */
export interface ConfigDump {
  readonly node: string;
  readonly config: { readonly kind: string; readonly path?: string; readonly lastError?: string; readonly xds?: unknown };
  readonly workloads: readonly Workload[];
  readonly services: readonly Service[];
  readonly policies: readonly Authorization[];
  readonly certificates: readonly { identity: string; state: string; serialNumber?: string; notBefore?: string; notAfter?: string; chainLength?: number }[];
}

/** The newest stream of each node, connected ones first: what proxy-status and node discovery show. */
export function latestStreams(proxies: readonly ProxyStatus[]): ProxyStatus[] {
  const best = new Map<string, ProxyStatus>();
  for (const p of proxies) {
    const prior = best.get(p.node.nodeName);
    const better = !prior || (p.connected && !prior.connected) || (p.connected === prior.connected && p.connectedAt > prior.connectedAt);
    if (better) best.set(p.node.nodeName, p);
  }
  return [...best.values()].sort((a, b) => a.node.nodeName.localeCompare(b.node.nodeName));
}

/** The ztunnels to ask: `--node-address`es, or every connected node the controlplane knows, filtered by `--node`. */
export async function findNodes(flags: Flags, io: Io): Promise<NodeTarget[]> {
  const only = flags.node as string | undefined;
  let nodes: NodeTarget[];
  const addresses = flags["node-address"] as string[];
  if (addresses.length > 0) {
    nodes = await Promise.all(addresses.map(async (address) => {
      const dump = await adminGet<ConfigDump>({ name: address, address }, "/config_dump", flags["admin-port"] as number);
      return { name: dump.node, address };
    }));
  } else {
    const cp = controlplaneFromFlags(flags, io.env);
    try {
      const { proxies } = await io.progress("asking the controlplane for its nodes", cp.proxyStatus());
      nodes = latestStreams(proxies).filter((p) => p.connected && p.node.ips?.length && p.node.metadata?.role !== "waypoint").map((p) => ({ name: p.node.nodeName, address: p.node.ips![0]! }));
    } finally {
      cp.close();
    }
    if (nodes.length === 0) throw new CommandError("no ztunnel is connected to the controlplane (or pass --node-address)");
  }
  if (only) {
    nodes = nodes.filter((n) => n.name === only);
    if (nodes.length === 0) throw new CommandError(`no connected ztunnel named ${only}`);
  }
  return nodes;
}

/** GET a path of a ztunnel's admin API as JSON. */
export async function adminGet<T>(node: NodeTarget, path: string, port: number, timeoutMs = 5000): Promise<T> {
  const host = node.address.includes(":") ? `[${node.address}]` : node.address;
  const url = `http://${host}:${port}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new CommandError(`cannot reach ztunnel ${node.name} at ${url}: ${(e as Error).message}`, { cause: e });
  }
  const text = await res.text();
  if (!res.ok) throw new CommandError(`ztunnel ${node.name}: GET ${path}: ${res.status} ${text.trim()}`);
  return JSON.parse(text) as T;
}
