// What the controlplane decides from a request's head, before reading its body:
// who is calling (caller.ts), whether that caller may use the route at all, and
// how large a body the route takes. An unauthenticated request is answered from
// its headers alone, so a flood of large anonymous bodies costs the headers.
import type { Admission, RequestHead } from "../runtime/mod.ts";
import { type Caller, describeCaller, identifyCaller, type RequestEnv } from "./caller.ts";
import type { NodeRegistry } from "./node_registry.ts";
import type { WaypointTokens } from "./waypoint_tokens.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/** Who may call a route and how large its body may be. */
interface RouteRule {
  readonly match: RegExp;
  readonly callers: readonly Caller["kind"][] | "join-token" | "anyone";
  readonly maxBodyBytes: number;
}

/** The body limit of a route the table does not name. */
const DEFAULT_BODY_BYTES = 64 * KiB;

/** Body limits per route: config objects are large; a CSR or an ACK is small. */
export const ROUTE_RULES: readonly RouteRule[] = [
  { match: /^\/(healthz\/ready|version)$/, callers: "anyone", maxBodyBytes: 0 },
  { match: /^\/api\/v1\/(apply|delete)$/, callers: ["admin", "dev"], maxBodyBytes: 8 * MiB },
  { match: /^\/api\/v1\//, callers: ["admin", "dev"], maxBodyBytes: 64 * KiB },
  { match: /^\/nodes\/v1\/join$/, callers: "join-token", maxBodyBytes: 16 * KiB },
  { match: /^\/nodes\/v1\/renew$/, callers: ["node"], maxBodyBytes: 16 * KiB },
  { match: /^\/ca\/v1\/certificates$/, callers: ["node", "waypoint", "dev"], maxBodyBytes: 16 * KiB },
  // A resuming node lists every resource version it holds: allow for large meshes.
  { match: /^\/xds\/v1\/delta$/, callers: ["node", "waypoint", "dev"], maxBodyBytes: 8 * MiB },
  { match: /^\/xds\/v1\/delta\/ack$/, callers: ["node", "waypoint", "dev"], maxBodyBytes: 1 * MiB },
];

/** Context {@link admitRequest} needs. */
export interface AdmissionContext {
  readonly adminToken: string;
  readonly trustDomain: string;
  readonly nodes: NodeRegistry;
  readonly waypointTokens?: WaypointTokens;
  /** Kubernetes mode: a JWT-shaped bearer on the join route may be a ServiceAccount token the handler reviews (TokenReview). */
  readonly reviewsServiceAccountTokens?: boolean;
}

/** Decides, from the head alone, whether a request may send its body and how much of it. */
export function admitRequest(head: RequestHead, env: RequestEnv, ctx: AdmissionContext): Admission {
  const path = head.path.replace(/\?.*$/, "");
  const rule = ROUTE_RULES.find((r) => r.match.test(path));
  // A route not in the table authenticates itself in its handler; its body stays small. (Add new routes here.)
  if (!rule) return { maxBodyBytes: DEFAULT_BODY_BYTES };
  if (rule.callers === "anyone") return { maxBodyBytes: rule.maxBodyBytes };
  if (rule.callers === "join-token") {
    const token = /^Bearer (.+)$/.exec(head.headers.get("authorization") ?? "")?.[1];
    return token && (ctx.nodes.checkToken(token) || (ctx.reviewsServiceAccountTokens && looksLikeJwt(token)))
      ? { maxBodyBytes: rule.maxBodyBytes }
      : { refuse: { status: 401, error: "a valid, unused, unexpired join token is required (Authorization: Bearer <token>)" } };
  }
  const caller = identifyCaller(head, env, ctx);
  if (rule.callers.includes(caller.kind)) return { maxBodyBytes: rule.maxBodyBytes };
  // Authenticated but not allowed here: 403, naming who.
  if (caller.kind !== "anonymous") {
    return { refuse: { status: 403, error: `${describeCaller(caller)} may not use ${path.startsWith("/api/") ? "the admin API" : path}` } };
  }
  if (caller.kind === "anonymous" && caller.reason) return { refuse: { status: 401, error: caller.reason } };
  const needs = rule.callers.includes("admin") ? "the admin API needs the admin token (Authorization: Bearer <token>)" : `${path} needs a node certificate`;
  return { refuse: { status: 401, error: needs } };
}

/** What could be a ServiceAccount token (a JWT); anything else never reaches the API server. */
export function looksLikeJwt(token: string): boolean {
  return token.length <= 8192 && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);
}
