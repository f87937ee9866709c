// The outbound decision, as a pure function over state (istio/ztunnel's
// build_request): where a captured connection goes, over which protocol, and
// which identity must answer. Everything else in outbound.ts carries it out.
import { isIP } from "node:net";
import { type SpiffeId, parseSpiffeId, spiffeId } from "../identity/mod.ts";
import type { SocketAddress } from "../hbone/mod.ts";
import type { GatewayAddress, Service, Workload } from "../xds/resources.ts";
import { checkDestination, type DestinationRules } from "./destination_guard.ts";
import type { ProxyState } from "./state.ts";

export const HBONE_PORT = 15008;

/** What the application asked for: an IP or a mesh hostname, and a port. */
export interface OutboundTarget {
  readonly host: string;
  readonly port: number;
}

/** The decision's inputs. */
export interface BuildRequestInput {
  readonly state: ProxyState;
  /** This ztunnel's node name. */
  readonly node: string;
  readonly source: Workload;
  readonly target: OutboundTarget;
  /** Whether destinations outside the mesh may be reached in plain TCP. */
  readonly allowPassthrough: boolean;
  /** The ztunnel's own ports (never a destination) and whether passthrough may reach link-local addresses. */
  readonly destinationRules: DestinationRules;
  /** Picks an index in [0, n) among the endpoints of `key` (a service or waypoint): the load balancer's turn. */
  readonly choose: (key: string, n: number) => number;
}

/** Where the mesh knows the destination to be. */
interface Destination {
  readonly workload?: Workload;
  readonly service?: Service;
}

/** The decision. */
export type OutboundRequest =
  | (Destination & {
    readonly protocol: "hbone";
    readonly hboneAddress: SocketAddress;
    /** The CONNECT :authority. */
    readonly target: SocketAddress;
    readonly expectedIdentities: readonly SpiffeId[];
    readonly viaWaypoint: boolean;
  })
  | (Destination & { readonly protocol: "local"; readonly workload: Workload; readonly target: SocketAddress })
  | (Destination & { readonly protocol: "passthrough"; readonly target: SocketAddress })
  | { readonly protocol: "refused"; readonly reason: RefusalReason; readonly message: string };

export type RefusalReason = "self-call" | "link-local" | "no-endpoint" | "unknown-host" | "not-allowed" | "no-waypoint";

/** Decides how to reach `input.target` from `input.source`. */
export function buildRequest(input: BuildRequestInput): OutboundRequest {
  const { state, target } = input;
  const guarded = checkDestination({ port: target.port }, input.destinationRules);
  if (guarded) return refused(guarded.reason, guarded.message);
  const service = state.findServiceByVip(target.host, input.source.network) ?? state.findServiceByHostname(target.host);
  if (service) return toService(input, service);
  const workload = state.findWorkload(target.host, input.source.network);
  if (workload) return toWorkload(input, workload, target.port);
  if (isIP(target.host) === 0) return refused("unknown-host", `unknown host ${target.host}`);
  if (!input.allowPassthrough) return refused("not-allowed", `${target.host}:${target.port} is outside the mesh and passthrough is off`);
  const outside = checkDestination({ address: target.host, port: target.port }, input.destinationRules);
  if (outside) return refused(outside.reason, outside.message);
  return { protocol: "passthrough", target: { address: target.host, port: target.port } };
}

function toService(input: BuildRequestInput, service: Service): OutboundRequest {
  const port = input.target.port;
  if (service.waypoint && !isWaypointOf(input.state, input.source, service.waypoint)) {
    // Keep the VIP the application dialled; a hostname gets the first VIP.
    const vip = service.vips.find((v) => v.address === input.target.host) ?? service.vips[0];
    if (!vip) return refused("no-waypoint", `service ${service.namespace}/${service.hostname} has a waypoint but no VIP`);
    return viaWaypoint(input, service.waypoint, { address: vip.address, port }, { service });
  }
  const healthy = input.state.endpointsOf(service).filter((e) => e.workload.status === "HEALTHY" && e.workload.addresses.length > 0);
  if (healthy.length === 0) {
    return refused("no-endpoint", `no healthy endpoint for ${service.namespace}/${service.hostname}:${port}`);
  }
  const chosen = healthy[input.choose(`${service.namespace}/${service.hostname}`, healthy.length) % healthy.length]!;
  const targetPort = chosen.ports[port] || service.ports[port] || port;
  const decision = toWorkload(input, chosen.workload, targetPort, service);
  if (decision.protocol !== "hbone") return decision;
  const extra = service.subjectAltNames.flatMap((san) => {
    try {
      return [parseSpiffeId(san)];
    } catch {
      return [];
    }
  });
  return { ...decision, expectedIdentities: [...decision.expectedIdentities, ...extra] };
}

function toWorkload(input: BuildRequestInput, workload: Workload, port: number, service?: Service): OutboundRequest {
  const address = workload.addresses[0]!;
  // A service may map its port onto a reserved one: the port dialled is what counts.
  const guarded = checkDestination({ port }, input.destinationRules);
  if (guarded) return refused(guarded.reason, `${guarded.message} (${workload.namespace}/${workload.name})`);
  if (!service && workload.waypoint && !isWaypointOf(input.state, input.source, workload.waypoint)) {
    return viaWaypoint(input, workload.waypoint, { address, port }, { workload });
  }
  const target = { address, port };
  if (workload.tunnelProtocol !== "HBONE") return { protocol: "passthrough", target, workload, service };
  if (workload.node === input.node) return { protocol: "local", target, workload, service };
  return {
    protocol: "hbone",
    hboneAddress: { address, port: HBONE_PORT },
    target,
    expectedIdentities: [identityOf(workload)],
    workload,
    service,
    viaWaypoint: false,
  };
}

function viaWaypoint(input: BuildRequestInput, gw: GatewayAddress, target: SocketAddress, dest: Destination): OutboundRequest {
  const waypoint = findGatewayWorkload(input, gw);
  if (!waypoint) return refused("no-waypoint", `waypoint ${describeGateway(gw)} has no healthy workload`);
  return {
    protocol: "hbone",
    hboneAddress: { address: waypoint.addresses[0]!, port: gw.hboneMtlsPort },
    target,
    expectedIdentities: [identityOf(waypoint)],
    ...dest,
    viaWaypoint: true,
  };
}

function findGatewayWorkload(input: BuildRequestInput, gw: GatewayAddress): Workload | undefined {
  const d = gw.destination;
  if (d.kind === "address") return input.state.findWorkload(d.address.address, d.address.network);
  const svc = input.state.findService(d.namespace, d.hostname);
  const healthy = svc ? input.state.endpointsOf(svc).filter((e) => e.workload.status === "HEALTHY") : [];
  return healthy.length ? healthy[input.choose(`${d.namespace}/${d.hostname}`, healthy.length) % healthy.length]!.workload : undefined;
}

function isWaypointOf(state: ProxyState, source: Workload, gw: GatewayAddress): boolean {
  const d = gw.destination;
  if (d.kind === "address") return source.addresses.includes(d.address.address);
  const svc = state.findService(d.namespace, d.hostname);
  return !!svc && state.endpointsOf(svc).some((e) => e.workload.uid === source.uid);
}

function describeGateway(gw: GatewayAddress): string {
  const d = gw.destination;
  return d.kind === "address" ? `${d.address.network}/${d.address.address}` : `${d.namespace}/${d.hostname}`;
}

/** A workload's SPIFFE identity. */
export function identityOf(w: Workload): SpiffeId {
  return spiffeId(w.trustDomain, w.namespace, w.serviceAccount);
}

function refused(reason: RefusalReason, message: string): OutboundRequest {
  return { protocol: "refused", reason, message };
}
