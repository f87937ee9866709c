// One HTTPRoute or GRPCRoute rule → the waypoint's RouteRule and its matches
// (xds/waypoint_resources.ts). Backends are resolved by the caller, which knows
// the Services and ReferenceGrants; what cannot be honoured is reported with
// Gateway API's ResolvedRefs reasons and answers 500 at the waypoint.
import type { KubeObject } from "../../config/objects.ts";
import type {
  HeaderModifier, PathModifier, ResolvedBackend, RetryPolicy, RouteBackend, RouteFilter, RouteMatch, RouteRule, ValueMatch,
} from "../../xds/waypoint_resources.ts";
import { arr, type Json, portNumber, rec, spec, str } from "./_read.ts";

/** Why a reference resolves to nothing: Gateway API's ResolvedRefs reasons. */
export type RefProblemReason = "BackendNotFound" | "InvalidKind" | "RefNotPermitted" | "UnsupportedValue";
export interface RefProblem {
  readonly reason: RefProblemReason;
  readonly message: string;
}

/** Resolves a `backendRefs[]` entry (or a mirror's `backendRef`) of a route in `namespace`. */
export type BackendResolver = (ref: Json, namespace: string) => { backend: ResolvedBackend; problem?: RefProblem };

export type RouteKind = "HTTPRoute" | "GRPCRoute";

/** A translated rule with its matches (each of which selects it) and what could not be resolved. */
export interface TranslatedRule {
  readonly rule: RouteRule;
  readonly matches: readonly RouteMatch[];
  readonly problems: readonly RefProblem[];
}

/** Translates every rule of a route. */
export function translateRouteRules(route: KubeObject, resolve: BackendResolver): TranslatedRule[] {
  const kind = route.kind as RouteKind;
  const { name, namespace = "" } = route.metadata;
  return arr(spec(route).rules).map(rec).map((r, index): TranslatedRule => {
    const problems: RefProblem[] = [];
    const filters = translateFilters(arr(r.filters), namespace, resolve, problems);
    const backends = arr(r.backendRefs).map(rec).map((ref): RouteBackend => {
      const resolved = resolve(ref, namespace);
      if (resolved.problem) problems.push(resolved.problem);
      return { backend: resolved.backend, weight: portNumber(ref.weight) ?? (ref.weight === 0 ? 0 : 1), filters: translateFilters(arr(ref.filters), namespace, resolve, problems) };
    });
    // An unsupported filter makes the whole rule answer 500: half-applying it would be worse.
    const broken = problems.some((p) => p.reason === "UnsupportedValue" || p.reason === "InvalidKind" && p.message.startsWith("filter"));
    const rule: RouteRule = {
      route: { kind, namespace, name, rule: str(r.name) ?? index },
      filters: broken ? [] : filters,
      backends: broken ? [] : backends.filter((b) => b.backend.kind === "service" || b.weight > 0),
      timeouts: kind === "HTTPRoute" ? timeoutsOf(rec(r.timeouts)) : {},
      ...(kind === "HTTPRoute" && r.retry !== undefined ? { retry: retryOf(rec(r.retry)) } : {}),
    };
    const matches = arr(r.matches).map(rec);
    const translated = matches.length === 0 ? [catchAll()] : matches.map((m) => (kind === "GRPCRoute" ? grpcMatch(m) : httpMatch(m)));
    return { rule, matches: translated, problems };
  });
}

const catchAll = (): RouteMatch => ({ path: { type: "PathPrefix", value: "/" }, headers: [], queryParams: [] });

function values(list: unknown): ValueMatch[] {
  return arr(list).map(rec).map((v) => ({ type: str(v.type) === "RegularExpression" ? "RegularExpression" : "Exact", name: str(v.name) ?? "", value: str(v.value) ?? "" }));
}

function httpMatch(m: Json): RouteMatch {
  const p = rec(m.path);
  const type = (str(p.type) ?? "PathPrefix") as "Exact" | "PathPrefix" | "RegularExpression";
  return {
    path: { type, value: str(p.value) ?? "/" },
    ...(str(m.method) ? { method: str(m.method) } : {}),
    headers: values(m.headers),
    queryParams: values(m.queryParams),
  };
}

// gRPC calls are POST /<service>/<method>: a method match becomes a path match.
function grpcMatch(m: Json): RouteMatch {
  const method = rec(m.method);
  const service = str(method.service);
  const name = str(method.method);
  const regex = str(method.type) === "RegularExpression";
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  let path: RouteMatch["path"];
  if (!service && !name) path = { type: "PathPrefix", value: "/" };
  else if (regex) path = { type: "RegularExpression", value: `/${service ?? "[^/]+"}/${name ?? "[^/]+"}` };
  else if (service && name) path = { type: "Exact", value: `/${service}/${name}` };
  else if (service) path = { type: "PathPrefix", value: `/${service}` };
  else path = { type: "RegularExpression", value: `/[^/]+/${escape(name!)}` };
  return { path, headers: values(m.headers), queryParams: [] };
}

function headerModifier(v: unknown): HeaderModifier {
  const m = rec(v);
  const pairs = (list: unknown) => arr(list).map(rec).map((h) => ({ name: str(h.name) ?? "", value: str(h.value) ?? "" })).filter((h) => h.name !== "");
  return { set: pairs(m.set), add: pairs(m.add), remove: arr(m.remove).map(str).filter((s): s is string => !!s) };
}

function pathModifier(v: unknown): PathModifier | undefined {
  const p = rec(v);
  if (p.type === "ReplaceFullPath" && typeof p.replaceFullPath === "string") return { type: "ReplaceFullPath", replaceFullPath: p.replaceFullPath };
  if (p.type === "ReplacePrefixMatch" && typeof p.replacePrefixMatch === "string") return { type: "ReplacePrefixMatch", replacePrefixMatch: p.replacePrefixMatch };
  return undefined;
}

const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

function translateFilters(list: readonly unknown[], namespace: string, resolve: BackendResolver, problems: RefProblem[]): RouteFilter[] {
  const out: RouteFilter[] = [];
  for (const f of list.map(rec)) {
    switch (f.type) {
      case "RequestHeaderModifier":
        out.push({ type: "RequestHeaderModifier", requestHeaderModifier: headerModifier(f.requestHeaderModifier) });
        break;
      case "ResponseHeaderModifier":
        out.push({ type: "ResponseHeaderModifier", responseHeaderModifier: headerModifier(f.responseHeaderModifier) });
        break;
      case "RequestRedirect": {
        const r = rec(f.requestRedirect);
        const statusCode = portNumber(r.statusCode) ?? 302;
        if (!REDIRECT_CODES.has(statusCode)) {
          problems.push({ reason: "UnsupportedValue", message: `filter RequestRedirect: statusCode ${statusCode} is not 301, 302, 303, 307 or 308` });
          break;
        }
        const path = pathModifier(r.path);
        out.push({
          type: "RequestRedirect",
          requestRedirect: {
            ...(str(r.scheme) ? { scheme: str(r.scheme) } : {}),
            ...(str(r.hostname) ? { hostname: str(r.hostname) } : {}),
            ...(portNumber(r.port) ? { port: portNumber(r.port) } : {}),
            ...(path ? { path } : {}),
            statusCode,
          },
        });
        break;
      }
      case "URLRewrite": {
        const r = rec(f.urlRewrite);
        const path = pathModifier(r.path);
        out.push({ type: "URLRewrite", urlRewrite: { ...(str(r.hostname) ? { hostname: str(r.hostname) } : {}), ...(path ? { path } : {}) } });
        break;
      }
      case "RequestMirror": {
        const m = rec(f.requestMirror);
        const resolved = resolve(rec(m.backendRef), namespace);
        if (resolved.problem) problems.push(resolved.problem);
        const fraction = rec(m.fraction);
        const numerator = typeof fraction.numerator === "number" ? fraction.numerator : undefined;
        const denominator = typeof fraction.denominator === "number" && fraction.denominator > 0 ? fraction.denominator : 100;
        const percent = typeof m.percent === "number" ? m.percent : numerator !== undefined ? (100 * numerator) / denominator : 100;
        out.push({ type: "RequestMirror", requestMirror: { backend: resolved.backend, percent: Math.max(0, Math.min(100, percent)) } });
        break;
      }
      default:
        problems.push({
          reason: f.type === "ExtensionRef" ? "InvalidKind" : "UnsupportedValue",
          message: `filter ${String(f.type)} is not supported by Ambit's waypoint: the rule answers 500`,
        });
    }
  }
  return out;
}

/** Gateway API Duration → milliseconds ("1m30s", "500ms"); "0s" means no timeout. */
export function durationMs(v: unknown): number | undefined {
  if (typeof v !== "string") return undefined;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let total = 0;
  for (const [, n, u] of v.matchAll(/([0-9]+)(ms|h|m|s)/g)) total += Number(n) * unit[u!]!;
  return total;
}

function timeoutsOf(t: Json): RouteRule["timeouts"] {
  const requestMs = durationMs(t.request);
  const backendRequestMs = durationMs(t.backendRequest);
  return { ...(requestMs ? { requestMs } : {}), ...(backendRequestMs ? { backendRequestMs } : {}) };
}

// GEP-1731: codes default to none listed (Ambit: the 5xx GEP-1731 names as retryable), attempts default 1 (Ambit's choice).
function retryOf(r: Json): RetryPolicy {
  const codes = arr(r.codes).map(portNumber).filter((c): c is number => c !== undefined && c >= 400 && c <= 599);
  return { codes: codes.length > 0 ? codes : [500, 502, 503, 504], attempts: portNumber(r.attempts) ?? (r.attempts === 0 ? 0 : 1), backoffMs: durationMs(r.backoff) ?? 25 };
}
