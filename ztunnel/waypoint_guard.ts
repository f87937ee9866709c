// The destination side of a waypoint: a workload behind a waypoint (its own
// `waypoint`, or a Service it backs that has one, primary or canary) accepts
// connections only from that waypoint's identity, so traffic that skips the
// waypoint also skips its L7 policy and is refused. Only a waypoint's
// `forwarded` header is trusted for the original source address.
import { isIP } from "node:net";
import { parseSpiffeId, type SpiffeId } from "../identity/mod.ts";
import type { GatewayAddress, Workload } from "../xds/resources.ts";
import { identityOf } from "./outbound_request.ts";
import type { ProxyState } from "./state.ts";

/** The outcome for one inbound connection. */
export type WaypointCheck =
  /** `fromWaypoint`: the peer is a waypoint of this workload (its `forwarded` may be trusted). */
  | { readonly allowed: true; readonly fromWaypoint: boolean }
  | { readonly allowed: false; readonly reason: "waypoint-bypassed"; readonly message: string };

/**
 * The waypoints in front of a workload: its own, else those of the Services it backs when every one
 * of them has a waypoint. A workload that also backs a Service without one is reachable directly
 * through that Service by the user's own config (a ztunnel cannot tell which Service a direct
 * connection meant), so only its own waypoint guards it then (docs/waypoint_controlplane.md).
 */
export function waypointsGuarding(state: ProxyState, workload: Workload): GatewayAddress[] {
  if (workload.waypoint) return [workload.waypoint];
  const services = state.servicesOf(workload);
  if (services.length === 0 || services.some((s) => !s.waypoint)) return [];
  return services.flatMap((s) => [s.waypoint!, ...(s.waypointCanary ? [s.waypointCanary.waypoint] : [])]);
}

/** The identities a waypoint may present: the one the controlplane names, else its instances'. */
export function waypointIdentities(state: ProxyState, gw: GatewayAddress): SpiffeId[] {
  if (gw.identity) {
    try {
      return [parseSpiffeId(gw.identity)];
    } catch {
      return [];
    }
  }
  const d = gw.destination;
  if (d.kind === "address") {
    const w = state.findWorkload(d.address.address, d.address.network);
    return w ? [identityOf(w)] : [];
  }
  const svc = state.findService(d.namespace, d.hostname);
  return svc ? state.endpointsOf(svc).map((e) => identityOf(e.workload)) : [];
}

const same = (a: SpiffeId, b: SpiffeId) => a.trustDomain === b.trustDomain && a.namespace === b.namespace && a.serviceAccount === b.serviceAccount;

/** Decides whether `peer` may reach `workload` directly. Pure over state. */
export function checkWaypointPeer(state: ProxyState, workload: Workload, peer: SpiffeId | undefined): WaypointCheck {
  const guards = waypointsGuarding(state, workload);
  if (guards.length === 0) {
    // Unguarded, but a waypoint of one of its Services is still a waypoint: its forwarded source counts.
    const any = [workload.waypoint, ...state.servicesOf(workload).flatMap((s) => [s.waypoint, s.waypointCanary?.waypoint])]
      .filter((g): g is GatewayAddress => !!g).flatMap((g) => waypointIdentities(state, g));
    return { allowed: true, fromWaypoint: !!peer && any.some((id) => same(id, peer)) };
  }
  const allowed = guards.flatMap((g) => waypointIdentities(state, g));
  if (peer && allowed.some((id) => same(id, peer))) return { allowed: true, fromWaypoint: true };
  const who = peer ? `spiffe://${peer.trustDomain}/ns/${peer.namespace}/sa/${peer.serviceAccount}` : "a plaintext peer";
  const expected = allowed.map((id) => `spiffe://${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`).join(", ") || "a waypoint identity (none known yet)";
  return {
    allowed: false,
    reason: "waypoint-bypassed",
    message: `${workload.namespace}/${workload.name} is behind a waypoint: only ${expected} may connect, not ${who}`,
  };
}

/** The address in a `forwarded: for=` value ("10.0.0.1:41234", "[fd00::1]:41234", "10.0.0.1"); undefined if it is none. */
export function forwardedSource(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::\d+)?$/.exec(value);
  const host = v6 ? v6[1]! : value.replace(/:\d+$/, "");
  return isIP(host) !== 0 ? host : undefined;
}
