/**
 * RequestAuthentication, AuthorizationPolicy (and local rate limits) with
 * `targetRefs` → the {@link ServiceL7Policy} each waypoint enforces, one per
 * Service: a `kind: Service` ref attaches to that Service, a `kind: Gateway`
 * ref (the waypoint) to every Service the waypoint serves. Policies without
 * targetRefs are ztunnel's (translate/authorization.ts) and are skipped here.
 *
 * @module
 */
import { DRY_RUN_ANNOTATION, type KubeObject } from "../../config/objects.ts";
import type { JwtRule, L7Authorization, L7RateLimit, L7RequestAuthentication, L7Rule, L7Source, RateLimitKey, ServiceL7Policy } from "../../xds/l7_policy_resources.ts";
import { arr, rec, spec, str, strings } from "./_read.ts";

/** How a translation finds what a targetRef names. */
export interface L7PolicyContext {
  /** The service key ("namespace/hostname") of a Service, when it exists. */
  readonly serviceKey: (namespace: string, name: string) => string | undefined;
  /** The service keys a waypoint Gateway serves (empty when it is not a known waypoint). */
  readonly gatewayServices: (namespace: string, name: string) => readonly string[];
  /** The mesh's trust domain, for `serviceAccounts` written as principals. */
  readonly trustDomain?: string;
}

/** A problem found while attaching, named by object. */
export interface L7PolicyWarning {
  readonly object: string;
  readonly message: string;
}

const GATEWAY_GROUP = "gateway.networking.k8s.io";

/** The Service keys a policy's targetRefs attach it to, with warnings for refs that attach to nothing. */
export function targetsOf(o: KubeObject, ctx: L7PolicyContext, warnings: L7PolicyWarning[]): string[] {
  const s = spec(o);
  const refs = [...arr(s.targetRefs), ...(Object.keys(rec(s.targetRef)).length > 0 ? [s.targetRef] : [])].map(rec);
  const ns = o.metadata.namespace ?? "default";
  const keys: string[] = [];
  for (const ref of refs) {
    const kind = str(ref.kind);
    const name = str(ref.name) ?? "";
    const refNs = str(ref.namespace) ?? ns;
    if (kind === "Service" && (str(ref.group) ?? "") === "") {
      const key = ctx.serviceKey(refNs, name);
      if (key) keys.push(key);
      else warnings.push({ object: objectName(o), message: `targetRefs: Service ${refNs}/${name} not found` });
    } else if (kind === "Gateway" && (str(ref.group) ?? GATEWAY_GROUP) === GATEWAY_GROUP) {
      const served = ctx.gatewayServices(refNs, name);
      if (served.length === 0) warnings.push({ object: objectName(o), message: `targetRefs: Gateway ${refNs}/${name} is not a waypoint serving any Service` });
      keys.push(...served);
    } else {
      warnings.push({ object: objectName(o), message: `targetRefs: kind ${kind ?? "(none)"} is not supported at the waypoint (use Service or Gateway)` });
    }
  }
  return [...new Set(keys)];
}

/** True when a policy object attaches by targetRefs (the waypoint's, not ztunnel's). */
export function hasTargetRefs(o: KubeObject): boolean {
  const s = spec(o);
  return arr(s.targetRefs).length > 0 || Object.keys(rec(s.targetRef)).length > 0;
}

/** Translates every waypoint policy among `objects` into per-Service resources (sorted by service). */
export function translateL7Policies(objects: readonly KubeObject[], ctx: L7PolicyContext): { policies: ServiceL7Policy[]; warnings: L7PolicyWarning[] } {
  const warnings: L7PolicyWarning[] = [];
  const by = new Map<string, { requestAuthentications: L7RequestAuthentication[]; authorizations: L7Authorization[]; rateLimits: L7RateLimit[] }>();
  const entry = (key: string) => {
    let e = by.get(key);
    if (!e) by.set(key, (e = { requestAuthentications: [], authorizations: [], rateLimits: [] }));
    return e;
  };
  const sorted = [...objects].sort((a, b) => (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "") || objectName(a).localeCompare(objectName(b)));
  for (const o of sorted) {
    if (!hasTargetRefs(o)) continue;
    if (o.kind === "AuthorizationPolicy") {
      const p = translateAuthorization(o, ctx);
      for (const key of targetsOf(o, ctx, warnings)) entry(key).authorizations.push(p);
    } else if (o.kind === "RequestAuthentication") {
      const p = translateRequestAuthentication(o);
      for (const key of targetsOf(o, ctx, warnings)) entry(key).requestAuthentications.push(p);
    } else if (o.kind === "BackendTrafficPolicy") {
      const p = translateRateLimit(o);
      if (p.rules.length === 0) continue;
      for (const key of targetsOf(o, ctx, warnings)) entry(key).rateLimits.push(p);
    }
  }
  const policies = [...by.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([service, e]) => ({ service, ...e }));
  return { policies, warnings };
}

/** One AuthorizationPolicy in the waypoint's shape. */
export function translateAuthorization(o: KubeObject, ctx: Pick<L7PolicyContext, "trustDomain"> = {}): L7Authorization {
  const s = spec(o);
  const dry = o.metadata.annotations?.[DRY_RUN_ANNOTATION];
  const ns = o.metadata.namespace ?? "default";
  return {
    name: o.metadata.name,
    namespace: ns,
    action: (str(s.action) ?? "ALLOW") as L7Authorization["action"],
    provider: str(rec(s.provider).name),
    dryRun: dry !== undefined && ["1", "t", "T", "TRUE", "true", "True"].includes(dry),
    rules: arr(s.rules).map((r) => translateRule(rec(r), ns, ctx.trustDomain ?? "cluster.local")),
  };
}

function translateRule(r: Record<string, unknown>, ns: string, trustDomain: string): L7Rule {
  const list = (v: unknown) => (strings(v).length > 0 ? strings(v) : undefined);
  const sa = (v: unknown) => strings(v).map((x) => (x.includes("/") ? `${trustDomain}/ns/${x.replace("/", "/sa/")}` : `${trustDomain}/ns/${ns}/sa/${x}`));
  const join = (a?: string[], b?: string[]) => (a || b ? [...(a ?? []), ...(b ?? [])] : undefined);
  const from = arr(r.from).map((f) => {
    const src = rec(rec(f).source);
    const source: L7Source = {
      principals: join(list(src.principals), sa(src.serviceAccounts).length ? sa(src.serviceAccounts) : undefined),
      notPrincipals: join(list(src.notPrincipals), sa(src.notServiceAccounts).length ? sa(src.notServiceAccounts) : undefined),
      requestPrincipals: list(src.requestPrincipals), notRequestPrincipals: list(src.notRequestPrincipals),
      namespaces: list(src.namespaces), notNamespaces: list(src.notNamespaces),
      ipBlocks: list(src.ipBlocks), notIpBlocks: list(src.notIpBlocks),
      remoteIpBlocks: list(src.remoteIpBlocks), notRemoteIpBlocks: list(src.notRemoteIpBlocks),
    };
    return { source: Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined)) as L7Source };
  });
  const to = arr(r.to).map((t) => {
    const op = rec(rec(t).operation);
    const keys = ["hosts", "notHosts", "ports", "notPorts", "methods", "notMethods", "paths", "notPaths"] as const;
    return { operation: Object.fromEntries(keys.flatMap((k) => (list(op[k]) ? [[k, list(op[k])]] : []))) };
  });
  const when = arr(r.when).map((w) => ({ key: str(rec(w).key) ?? "", values: list(rec(w).values), notValues: list(rec(w).notValues) }));
  return { ...(from.length ? { from } : {}), ...(to.length ? { to } : {}), ...(when.length ? { when } : {}) };
}

/** One RequestAuthentication in the waypoint's shape, defaults filled in. */
export function translateRequestAuthentication(o: KubeObject): L7RequestAuthentication {
  const rules = arr(spec(o).jwtRules).map((raw): JwtRule => {
    const r = rec(raw);
    return {
      issuer: str(r.issuer) ?? "",
      audiences: strings(r.audiences),
      jwks: str(r.jwks),
      jwksUri: str(r.jwksUri),
      fromHeaders: arr(r.fromHeaders).map((h) => ({ name: str(rec(h).name) ?? "", ...(str(rec(h).prefix) !== undefined ? { prefix: str(rec(h).prefix) } : {}) })),
      fromParams: strings(r.fromParams),
      fromCookies: strings(r.fromCookies),
      outputPayloadToHeader: str(r.outputPayloadToHeader),
      outputClaimToHeaders: arr(r.outputClaimToHeaders).map((h) => ({ header: str(rec(h).header) ?? "", claim: str(rec(h).claim) ?? "" })),
      forwardOriginalToken: r.forwardOriginalToken === true,
      timeoutMs: durationMs(str(r.timeout)) ?? 5000,
    };
  });
  return { name: o.metadata.name, namespace: o.metadata.namespace ?? "default", jwtRules: rules };
}

const UNIT_SECONDS: Record<string, number> = { Second: 1, Minute: 60, Hour: 3600, Day: 86_400 };

/** A BackendTrafficPolicy's local rate limit in the waypoint's shape. */
export function translateRateLimit(o: KubeObject): L7RateLimit {
  const local = rec(rec(rec(spec(o).rateLimit)).local);
  const rules = arr(local.rules).map((raw) => {
    const r = rec(raw);
    const sel = rec(arr(r.clientSelectors)[0]);
    const header = str(rec(arr(sel.headers)[0]).name);
    const key: RateLimitKey = header ? { type: "Header", name: header.toLowerCase() }
      : sel.sourceIdentity ? { type: "SourceIdentity" }
      : sel.requestPrincipal ? { type: "RequestPrincipal" }
      : { type: "None" };
    const limit = rec(r.limit);
    return { key, requests: Number(limit.requests), unitSeconds: UNIT_SECONDS[str(limit.unit) ?? "Second"] ?? 1 };
  });
  return { name: o.metadata.name, namespace: o.metadata.namespace ?? "default", rules };
}

/** A Go-style duration ("5s", "1m30s", "250ms") in milliseconds. */
export function durationMs(d: string | undefined): number | undefined {
  if (!d) return undefined;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let total = 0;
  for (const m of d.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) total += Number(m[1]) * unit[m[2]!]!;
  return Math.round(total);
}

function objectName(o: KubeObject): string {
  return `${o.kind} ${o.metadata.namespace ?? "default"}/${o.metadata.name}`;
}
