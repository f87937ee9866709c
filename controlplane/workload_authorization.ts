import { formatSpiffeId, type SpiffeId } from "../identity/mod.ts";
import type { DataPlaneSnapshot } from "../xds/resources.ts";

/**
 * istiod's node authorization: a node may have a certificate for an identity
 * only when at least one workload with that identity runs on it. A waypoint's
 * instances do not count: a waypoint gets its identity with its own token
 * (waypoint_authorization.ts), never through the node it runs on. Returns the
 * refusal, or undefined when allowed.
 */
export function checkNodeMayHoldIdentity(snapshot: DataPlaneSnapshot, node: string, identity: SpiffeId): string | undefined {
  const found = snapshot.workloads.some((w) =>
    w.node === node && !w.nativeTunnel && w.trustDomain === identity.trustDomain && w.namespace === identity.namespace && w.serviceAccount === identity.serviceAccount
  );
  return found ? undefined : `no workload with identity ${formatSpiffeId(identity)} on node ${node}`;
}
