/**
 * What a waypoint may do: authenticate with its waypoint token, subscribe to its
 * own xDS view, and hold exactly one identity —
 * `spiffe://<td>/ns/<ns>/sa/<gateway-name>` of an existing istio-waypoint Gateway
 * `<ns>/<name>`. The CA refuses it any other (MESH_REFERENCE "Waypoints").
 *
 * @module
 */
import type { KubeObject } from "../config/objects.ts";
import { formatSpiffeId, type SpiffeId } from "../identity/mod.ts";
import type { XdsNode } from "../xds/protocol.ts";
import { parseWaypointKey, WAYPOINT_TOKEN_PREFIX, type WaypointTokens } from "./waypoint_tokens.ts";

export const WAYPOINT_GATEWAY_CLASS = "istio-waypoint";

/** A caller that presented a waypoint token (as the Caller union in caller.ts spells it). */
export type WaypointCaller = { readonly kind: "waypoint"; readonly waypoint: string } | { readonly kind: "anonymous"; readonly reason: string };

/** The caller a bearer token names, when it is a waypoint token; undefined for other tokens. */
export function identifyWaypoint(bearer: string, tokens: WaypointTokens | undefined): WaypointCaller | undefined {
  if (!tokens || !tokensShape(bearer)) return undefined;
  const verified = tokens.verify(bearer);
  if (!verified) return { kind: "anonymous", reason: "invalid waypoint token" };
  if ("revoked" in verified) return { kind: "anonymous", reason: `the token of waypoint ${verified.revoked} is revoked` };
  return { kind: "waypoint", waypoint: verified.waypoint };
}

const tokensShape = (bearer: string) => bearer.startsWith(`${WAYPOINT_TOKEN_PREFIX}.`);

/** The istio-waypoint Gateway "ns/name" among the stored objects, if it exists. */
export function findWaypointGateway(objects: readonly KubeObject[], waypoint: string): KubeObject | undefined {
  const key = parseWaypointKey(waypoint);
  if (!key) return undefined;
  return objects.find((o) =>
    o.kind === "Gateway" && o.apiVersion.startsWith("gateway.networking.k8s.io/") &&
    o.metadata.namespace === key.namespace && o.metadata.name === key.name &&
    (o.spec as { gatewayClassName?: unknown } | undefined)?.gatewayClassName === WAYPOINT_GATEWAY_CLASS
  );
}

/**
 * Whether waypoint `waypoint` ("ns/name") may hold `identity`: the Gateway must exist with class
 * istio-waypoint, and the identity must be its own. Returns the refusal, or undefined when allowed.
 */
export function checkWaypointMayHoldIdentity(objects: readonly KubeObject[], trustDomain: string, waypoint: string, identity: SpiffeId): string | undefined {
  const key = parseWaypointKey(waypoint);
  if (!key) return `waypoint must be "namespace/name", got ${JSON.stringify(waypoint)}`;
  if (!findWaypointGateway(objects, waypoint)) return `no Gateway ${waypoint} with gatewayClassName ${WAYPOINT_GATEWAY_CLASS}`;
  const own: SpiffeId = { trustDomain, namespace: key.namespace, serviceAccount: key.name };
  const same = identity.trustDomain === own.trustDomain && identity.namespace === own.namespace && identity.serviceAccount === own.serviceAccount;
  return same ? undefined : `waypoint ${waypoint} may hold only ${formatSpiffeId(own)}, not ${formatSpiffeId(identity)}`;
}

/**
 * Whether a caller may open an xDS stream as `node`. A waypoint token subscribes only as that
 * waypoint (role "waypoint", metadata.waypoint its own name); no other credential may ask for a
 * waypoint's view, and a waypoint may not pose as a node.
 */
export function checkWaypointStream(caller: { kind: string; waypoint?: string }, node: XdsNode): string | undefined {
  const asWaypoint = node.metadata?.role === "waypoint";
  if (caller.kind === "waypoint") {
    if (!asWaypoint) return `waypoint ${caller.waypoint} must subscribe with metadata.role "waypoint"`;
    return node.metadata?.waypoint === caller.waypoint ? undefined : `waypoint ${caller.waypoint} may not subscribe as waypoint ${node.metadata?.waypoint}`;
  }
  if (asWaypoint && caller.kind !== "dev") return "only a waypoint token may subscribe as a waypoint";
  return undefined;
}
