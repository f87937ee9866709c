// The workloads that may call a waypoint, as the waypoint may see them. Istio's
// waypoint labels its request metrics with the caller's workload, namespace,
// app and version, so it needs the caller's metadata; it does not need, and is
// not given, where the caller runs, what it serves or which policies select it.
// A caller is any workload whose ztunnel hands traffic to waypoints (tunnel
// protocol HBONE; a workload outside the mesh never reaches one): the set is bounded by the mesh,
// and each entry by the fields below. The entry's version is a hash of those
// fields alone, so a caller's health, node or Service membership changing
// pushes nothing to waypoints.
import { resourceVersion, type XdsResource } from "../xds/protocol.ts";
import type { Workload } from "../xds/resources.ts";

/** What a waypoint learns about a workload that is not one of its endpoints. */
export function callerMetadata(w: Workload): Workload {
  return {
    uid: w.uid,
    name: w.name,
    namespace: w.namespace,
    serviceAccount: w.serviceAccount,
    trustDomain: w.trustDomain,
    // The address is how a request's source is found; the waypoint accepts the match only when the
    // tunnel's verified identity is this workload's (waypoint/request_record.ts).
    addresses: w.addresses,
    network: w.network,
    node: "",
    tunnelProtocol: w.tunnelProtocol,
    status: "HEALTHY",
    canonicalName: w.canonicalName,
    canonicalRevision: w.canonicalRevision,
    workloadName: w.workloadName,
    workloadType: w.workloadType,
    clusterId: w.clusterId,
    services: {},
    authorizationPolicies: [],
  };
}

/**
 * A waypoint's workload map: its endpoints whole (`isEndpoint`), every other mesh workload as
 * {@link callerMetadata}.
 */
export function waypointWorkloads(
  all: ReadonlyMap<string, XdsResource>,
  isEndpoint: (w: Workload) => boolean,
): Map<string, XdsResource> {
  const out = new Map<string, XdsResource>();
  for (const [name, r] of all) {
    const w = r.resource as Workload;
    if (isEndpoint(w)) out.set(name, r);
    else if (w.tunnelProtocol === "HBONE") {
      const caller = callerMetadata(w);
      out.set(name, { name, version: resourceVersion(caller), resource: caller });
    }
  }
  return out;
}
