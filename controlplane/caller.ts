// Who is calling, decided once per request from the connection and headers:
// an admin (the admin token), a node (its node certificate), anyone on the
// dev listener, or anonymous. Routes state which callers they take.
import { timingSafeEqual } from "node:crypto";
import { parseNodeUri, uriSans } from "../identity/mod.ts";
import type { Http2PeerInfo } from "../runtime/mod.ts";
import type { NodeRegistry } from "./node_registry.ts";
import { identifyWaypoint } from "./waypoint_authorization.ts";
import type { WaypointTokens } from "./waypoint_tokens.ts";

/** The authenticated caller of one request. */
export type Caller =
  | { readonly kind: "admin"; readonly name: string }
  | { readonly kind: "node"; readonly node: string }
  | { readonly kind: "dev"; readonly name: string }
  /** A waypoint process ("namespace/name"), by its waypoint token: see waypoint_authorization.ts. */
  | { readonly kind: "waypoint"; readonly waypoint: string }
  | { readonly kind: "anonymous"; readonly reason?: string };

/** What the transport passes to the app per request. */
export interface RequestEnv extends Http2PeerInfo {
  /** True on the loopback dev listener: no authentication. */
  readonly dev?: boolean;
}

/** Decides who is calling. */
export function identifyCaller(request: { readonly headers: Headers }, env: RequestEnv, ctx: { adminToken: string; trustDomain: string; nodes: NodeRegistry; waypointTokens?: WaypointTokens }): Caller {
  if (env.dev) return { kind: "dev", name: `dev@${env.remoteAddress}` };
  const bearer = /^Bearer (.+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
  if (bearer && equal(bearer, ctx.adminToken)) return { kind: "admin", name: "admin-token" };
  const waypoint = bearer ? identifyWaypoint(bearer, ctx.waypointTokens) : undefined;
  if (waypoint) return waypoint;
  for (const uri of uriSans(env.peerSubjectAltName)) {
    const node = parseNodeUri(uri, ctx.trustDomain);
    if (!node) continue;
    if (!ctx.nodes.isActive(node)) return { kind: "anonymous", reason: `node ${node} is revoked` };
    if (env.peerSerialNumber && ctx.nodes.isRevokedSerial(env.peerSerialNumber)) return { kind: "anonymous", reason: `certificate ${env.peerSerialNumber} is revoked` };
    return { kind: "node", node };
  }
  return { kind: "anonymous" };
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A short description for the audit log. */
export function describeCaller(c: Caller): string {
  return c.kind === "node" ? `node:${c.node}` : c.kind === "waypoint" ? `waypoint:${c.waypoint}` : c.kind === "anonymous" ? "anonymous" : c.name;
}
