// Which workload sent a request, for its metrics. The tunnel's verified
// identity decides; the source address (the caller's `forwarded`) and the
// `baggage` its ztunnel adds only pick among the workloads that have that
// identity, so a caller can never be reported as a workload of another service
// account. A source ztunnel reached over SOCKS5 forwards the client's own
// address (often loopback), so the baggage's namespace and workload name are
// the second way to find it, as Istio's waypoint reads its peer metadata.
import type { SpiffeId } from "../identity/mod.ts";
import type { Workload } from "../xds/resources.ts";

/** The workloads a waypoint knows, by address and by namespace and workload name. */
export interface KnownWorkloads {
  workloadAt(address: string): Workload | undefined;
  workloadsNamed(namespace: string, workloadName: string): readonly Workload[];
}

const hasIdentity = (w: Workload, id: SpiffeId) => w.trustDomain === id.trustDomain && w.namespace === id.namespace && w.serviceAccount === id.serviceAccount;

/** The workload behind a tunnel with `peer` identity from `source` ("ip:port"), if one is known. */
export function sourceWorkload(known: KnownWorkloads, peer: SpiffeId, source: string, baggage: Readonly<Record<string, string>>): Workload | undefined {
  const atAddress = known.workloadAt(source.replace(/^\[?([^\]]*?)\]?:\d+$/, "$1"));
  if (atAddress && hasIdentity(atAddress, peer)) return atAddress;
  const namespace = baggage["k8s.namespace.name"];
  const name = Object.entries(baggage).find(([k]) => /^k8s\.[a-z]+\.name$/.test(k) && k !== "k8s.namespace.name" && k !== "k8s.cluster.name")?.[1];
  if (!name || namespace !== peer.namespace) return undefined;
  return known.workloadsNamed(namespace, name).find((w) => hasIdentity(w, peer));
}
