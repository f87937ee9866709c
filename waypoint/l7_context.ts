// What the security filters share about one request and one state: the
// Service's L7 policies (indexed once per state), the verified JWT (set by the
// authn filter, read by authz and rate limits) and the facts policies match.
import { principalOf } from "../identity/mod.ts";
import { type ExtAuthzHttpProvider, NO_L7_POLICY, type ServiceL7Policy } from "../xds/l7_policy_resources.ts";
import type { L7RequestFacts, RequestAuth } from "./l7_authorization.ts";
import type { RequestContext } from "./request_context.ts";
import type { WaypointState } from "./state.ts";

interface L7Index {
  readonly byService: ReadonlyMap<string, ServiceL7Policy>;
  readonly providers: ReadonlyMap<string, ExtAuthzHttpProvider>;
}

const indexes = new WeakMap<WaypointState, L7Index>();

function indexOf(state: WaypointState): L7Index {
  let i = indexes.get(state);
  if (!i) {
    i = {
      byService: new Map((state.snapshot.l7Policies ?? []).map((p) => [p.service, p])),
      providers: new Map((state.snapshot.extAuthzProviders ?? []).map((p) => [p.name, p])),
    };
    indexes.set(state, i);
  }
  return i;
}

/** The L7 policies of a Service (empty lists when it has none). */
export function l7PolicyFor(state: WaypointState, serviceKey: string): Omit<ServiceL7Policy, "service"> {
  return indexOf(state).byService.get(serviceKey) ?? NO_L7_POLICY;
}

/** An ext_authz provider by name. */
export function extAuthzProvider(state: WaypointState, name: string): ExtAuthzHttpProvider | undefined {
  return indexOf(state).providers.get(name);
}

const auths = new WeakMap<RequestContext, RequestAuth>();

/** Records the request's verified JWT. */
export function setRequestAuth(ctx: RequestContext, auth: RequestAuth): void {
  auths.set(ctx, auth);
}

/** The request's verified JWT, if it carried one. */
export function requestAuthOf(ctx: RequestContext): RequestAuth | undefined {
  return auths.get(ctx);
}

/** `ip:port` (or `[v6]:port`) → ip. */
export function hostOf(address: string): string {
  const m = /^\[(.*)\]:\d+$/.exec(address) ?? /^(.*):\d+$/.exec(address);
  return m ? m[1]! : address;
}

/** The path without its query. */
export function pathOf(pathAndQuery: string): string {
  const q = pathAndQuery.indexOf("?");
  return q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
}

/** The facts AuthorizationPolicy matches, from the request as it stands in the chain. */
export function requestFacts(ctx: RequestContext): L7RequestFacts {
  const id = ctx.tunnel.peerIdentity;
  const sourceIp = hostOf(ctx.source);
  const headers = ctx.upstream.headers;
  return {
    sourcePrincipal: principalOf(id),
    sourceNamespace: id.namespace,
    sourceIp,
    remoteIp: sourceIp,
    destinationIp: ctx.tunnel.destination.address,
    destinationPort: ctx.target.port,
    host: ctx.upstream.authority,
    method: ctx.upstream.method,
    path: pathOf(ctx.upstream.path),
    header: (name) => {
      if (name === "host" || name === ":authority") return ctx.upstream.authority;
      const v = headers[name];
      return Array.isArray(v) ? v.join(",") : v;
    },
    auth: requestAuthOf(ctx),
  };
}
