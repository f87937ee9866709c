// The CEL rules (x-kubernetes-validations) of kubernetes-sigs/gateway-api's
// standard CRDs for HTTPRoute and GRPCRoute, ported as plain functions over the
// parsed spec: no CEL engine. Each message is the CRD's own, at the path the API
// server reports it (the node the rule is attached to), and defaults are applied
// as the CRD applies them (a match without a path is PathPrefix "/", a filter
// list's kinds default to Gateway in gateway.networking.k8s.io).
import { isIP } from "node:net";
import type { z } from "zod";

type Ctx = z.RefinementCtx;
type Path = PropertyKey[];
type Obj = Record<string, unknown>;

const add = (ctx: Ctx, path: Path, message: string) => ctx.addIssue({ code: "custom", path, message });
const has = (o: Obj | undefined, k: string) => o !== undefined && o[k] !== undefined && o[k] !== null;
const obj = (v: unknown): Obj | undefined => (v && typeof v === "object" && !Array.isArray(v) ? v as Obj : undefined);

/** ParentReference: sectionName (and, where the kind has it, port) tell two references to one parent apart. */
export function checkParentRefs(refs: readonly Obj[] | undefined, ctx: Ctx): void {
  if (!refs || refs.length < 2) return;
  const parent = (p: Obj) => `${p.group ?? "gateway.networking.k8s.io"}/${p.kind ?? "Gateway"}/${p.namespace || ""}/${p.name}`;
  const named = (p: Obj) => !!p.sectionName;
  const ported = (p: Obj) => !!p.port;
  const same = refs.map((p1) => refs.filter((p2) => parent(p1) === parent(p2)));
  if (same.some((group, i) => group.some((p2) => named(refs[i]!) !== named(p2) || ported(refs[i]!) !== ported(p2)))) {
    add(ctx, ["parentRefs"], "sectionName or port must be specified when parentRefs includes 2 or more references to the same parent");
  }
  const section = (p: Obj) => `${p.sectionName || ""}:${p.port || ""}`;
  if (same.some((group, i) => group.filter((p2) => section(p2) === section(refs[i]!)).length > 1)) {
    add(ctx, ["parentRefs"], "sectionName or port must be unique when parentRefs includes 2 or more references to the same parent");
  }
}

/** HTTPRoute `spec.rules`: at most 128 matches in all (a rule without matches has the default one). */
export function checkTotalMatches(rules: readonly { matches?: readonly unknown[] }[] | undefined, ctx: Ctx): void {
  const total = (rules ?? []).reduce((n, r) => n + (r.matches?.length ?? 1), 0);
  if (total > 128) {
    add(ctx, ["rules"], "While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128");
  }
}

const PATH_CHARS = /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$/;
const PATH_RULES: [(v: string) => boolean, string][] = [
  [(v) => v.startsWith("/"), "value must be an absolute path and start with '/'"],
  [(v) => !v.includes("//"), "must not contain '//'"],
  [(v) => !v.includes("/./"), "must not contain '/./'"],
  [(v) => !v.includes("/../"), "must not contain '/../'"],
  [(v) => !v.includes("%2f"), "must not contain '%2f'"],
  [(v) => !v.includes("%2F"), "must not contain '%2F'"],
  [(v) => !v.includes("#"), "must not contain '#'"],
  [(v) => !v.endsWith("/.."), "must not end with '/..'"],
  [(v) => !v.endsWith("/."), "must not end with '/.'"],
];

/** HTTPPathMatch: an Exact or PathPrefix value is a clean absolute path. */
export function checkPathMatch(match: { type?: string; value?: string }, ctx: Ctx): void {
  const type = match.type ?? "PathPrefix";
  if (type !== "Exact" && type !== "PathPrefix") return;
  const value = match.value ?? "/";
  for (const [ok, message] of PATH_RULES) if (!ok(value)) add(ctx, [], `${message} when type one of ['Exact', 'PathPrefix']`);
  if (!PATH_CHARS.test(value)) {
    add(ctx, [], "must only contain valid characters (matching ^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$) for types ['Exact', 'PathPrefix']");
  }
}

const DURATION_PART = /([0-9]{1,5})(h|ms|m|s)/g;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
const durationMs = (d: string) => [...d.matchAll(DURATION_PART)].reduce((n, [, v, u]) => n + Number(v) * UNIT_MS[u!]!, 0);

/** HTTPRouteTimeouts: a backend request may not outlast the whole request (0s meaning no limit). */
export function checkTimeouts(t: { request?: string; backendRequest?: string }, ctx: Ctx): void {
  if (t.request === undefined || t.backendRequest === undefined) return;
  const request = durationMs(t.request);
  if (request !== 0 && durationMs(t.backendRequest) > request) add(ctx, [], "backendRequest timeout cannot be longer than request timeout");
}

/** The filter types of each route kind, and the member each type carries. */
export const HTTP_FILTER_MEMBERS: Readonly<Record<string, string>> = {
  RequestHeaderModifier: "requestHeaderModifier",
  ResponseHeaderModifier: "responseHeaderModifier",
  RequestMirror: "requestMirror",
  RequestRedirect: "requestRedirect",
  URLRewrite: "urlRewrite",
  ExtensionRef: "extensionRef",
  CORS: "cors",
};
export const GRPC_FILTER_MEMBERS: Readonly<Record<string, string>> = {
  RequestHeaderModifier: "requestHeaderModifier",
  ResponseHeaderModifier: "responseHeaderModifier",
  RequestMirror: "requestMirror",
  ExtensionRef: "extensionRef",
};
const NOT_REPEATED = ["CORS", "RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect", "URLRewrite"];

/** A rule's (or backendRef's) `filters`: no repeats of the single-use types; never a redirect and a rewrite. */
export function checkFilterList(filters: readonly Obj[] | undefined, members: Readonly<Record<string, string>>, ctx: Ctx, path: Path): void {
  if (!filters) return;
  const count = (t: string) => filters.filter((f) => f.type === t).length;
  if (members.RequestRedirect && count("RequestRedirect") > 0 && count("URLRewrite") > 0) {
    add(ctx, path, "May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both");
  }
  for (const t of NOT_REPEATED) if (members[t] && count(t) > 1) add(ctx, path, `${t} filter cannot be repeated`);
  filters.forEach((f, i) => checkFilter(f, members, ctx, [...path, i]));
}

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;

/** One filter: a known type, carrying its own member and no other's; each member as the CRD types it. */
function checkFilter(f: Obj, members: Readonly<Record<string, string>>, ctx: Ctx, path: Path): void {
  const type = String(f.type);
  if (!(type in members)) {
    add(ctx, [...path, "type"], `must be one of ${Object.keys(members).join(", ")}; got ${JSON.stringify(f.type)}`);
    return;
  }
  for (const [t, member] of Object.entries(members)) {
    if (has(f, member) && type !== t) add(ctx, path, `filter.${member} must be nil if the filter.type is not ${t}`);
    if (!has(f, member) && type === t) add(ctx, path, `filter.${member} must be specified for ${t} filter.type`);
  }
  const member = obj(f[members[type]!]);
  if (!member) return;
  const at = [...path, members[type]!];
  if (type === "RequestHeaderModifier" || type === "ResponseHeaderModifier") checkHeaderFilter(member, ctx, at);
  if (type === "RequestRedirect") checkRedirect(member, ctx, at);
  if (type === "URLRewrite" && has(member, "path")) checkPathModifier(obj(member.path) ?? {}, ctx, [...at, "path"]);
  if (type === "RequestMirror") checkMirror(member, ctx, at);
}

/** HTTPHeaderFilter: set and add keyed by name (listType=map), remove a set; at most 16 each; RFC 7230 names. */
function checkHeaderFilter(h: Obj, ctx: Ctx, path: Path): void {
  for (const list of ["set", "add", "remove"] as const) {
    const items = h[list];
    if (items === undefined) continue;
    if (!Array.isArray(items)) {
      add(ctx, [...path, list], "must be a list");
      continue;
    }
    if (items.length > 16) add(ctx, [...path, list], `must have at most 16 items, not ${items.length}`);
    const seen = new Set<string>();
    items.forEach((item, i) => {
      const name = list === "remove" ? item : obj(item)?.name;
      const at = list === "remove" ? [...path, list, i] : [...path, list, i, "name"];
      if (typeof name !== "string" || name.length === 0 || name.length > 256 || !HEADER_NAME.test(name)) {
        add(ctx, at, `${JSON.stringify(name)} must be an HTTP header name (RFC 7230 token, 1 to 256 characters)`);
        return;
      }
      if (seen.has(name)) add(ctx, [...path, list, i], `Duplicate value: ${JSON.stringify(name)}`);
      seen.add(name);
      if (list !== "remove") {
        const value = obj(item)?.value;
        if (typeof value !== "string" || value.length < 1 || value.length > 4096) add(ctx, [...path, list, i, "value"], "must be a string of 1 to 4096 characters");
      }
    });
  }
}

const PRECISE_HOSTNAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkRedirect(r: Obj, ctx: Ctx, path: Path): void {
  if (has(r, "scheme") && r.scheme !== "http" && r.scheme !== "https") add(ctx, [...path, "scheme"], `must be "http" or "https", not ${JSON.stringify(r.scheme)}`);
  if (has(r, "statusCode") && ![301, 302, 303, 307, 308].includes(r.statusCode as number)) {
    add(ctx, [...path, "statusCode"], `must be one of 301, 302, 303, 307, 308, not ${JSON.stringify(r.statusCode)}`);
  }
  if (has(r, "port") && !(Number.isInteger(r.port) && (r.port as number) >= 1 && (r.port as number) <= 65535)) add(ctx, [...path, "port"], "must be a port number from 1 to 65535");
  if (has(r, "hostname") && !(typeof r.hostname === "string" && r.hostname.length <= 253 && PRECISE_HOSTNAME.test(r.hostname))) {
    add(ctx, [...path, "hostname"], `${JSON.stringify(r.hostname)} must be a precise lower-case hostname (no wildcard)`);
  }
  if (has(r, "path")) checkPathModifier(obj(r.path) ?? {}, ctx, [...path, "path"]);
}

/** HTTPPathModifier: the type names the one replacement that is set. */
function checkPathModifier(p: Obj, ctx: Ctx, path: Path): void {
  if (p.type !== "ReplaceFullPath" && p.type !== "ReplacePrefixMatch") {
    add(ctx, [...path, "type"], `must be ReplaceFullPath or ReplacePrefixMatch, not ${JSON.stringify(p.type)}`);
  }
  if (p.type === "ReplaceFullPath" && !has(p, "replaceFullPath")) add(ctx, path, "replaceFullPath must be specified when type is set to 'ReplaceFullPath'");
  if (has(p, "replaceFullPath") && p.type !== "ReplaceFullPath") add(ctx, path, "type must be 'ReplaceFullPath' when replaceFullPath is set");
  if (p.type === "ReplacePrefixMatch" && !has(p, "replacePrefixMatch")) add(ctx, path, "replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'");
  if (has(p, "replacePrefixMatch") && p.type !== "ReplacePrefixMatch") add(ctx, path, "type must be 'ReplacePrefixMatch' when replacePrefixMatch is set");
}

/** HTTPRequestMirrorFilter: a Service backend with a port; percent or fraction, not both. */
function checkMirror(m: Obj, ctx: Ctx, path: Path): void {
  const ref = obj(m.backendRef);
  if (!ref || typeof ref.name !== "string" || ref.name === "") add(ctx, [...path, "backendRef"], "must name a backend");
  else if ((ref.group ?? "") === "" && (ref.kind ?? "Service") === "Service" && ref.port === undefined) add(ctx, [...path, "backendRef"], "Must have port for Service reference");
  if (has(m, "percent") && has(m, "fraction")) add(ctx, path, "Only one of percent or fraction may be specified in HTTPRequestMirrorFilter");
  if (has(m, "percent") && !(Number.isInteger(m.percent) && (m.percent as number) >= 0 && (m.percent as number) <= 100)) add(ctx, [...path, "percent"], "must be a whole number from 0 to 100");
  const fraction = obj(m.fraction);
  if (fraction) {
    const denominator = (fraction.denominator ?? 100) as number;
    if (!Number.isInteger(fraction.numerator) || (fraction.numerator as number) < 0) add(ctx, [...path, "fraction", "numerator"], "must be a whole number, at least 0");
    else if (!Number.isInteger(denominator) || denominator < 1) add(ctx, [...path, "fraction", "denominator"], "must be a whole number, at least 1");
    else if ((fraction.numerator as number) > denominator) add(ctx, [...path, "fraction"], "numerator must be less than or equal to denominator");
  }
}

const prefixRewrite = (filters: unknown, member: string) =>
  (Array.isArray(filters) ? filters as Obj[] : []).filter((f) => {
    const p = obj(obj(f[member])?.path);
    return p?.type === "ReplacePrefixMatch" && has(p, "replacePrefixMatch");
  }).length === 1;

/** HTTPRouteRule: a redirect answers by itself (no backendRefs); a prefix replacement needs exactly one PathPrefix match. */
export function checkHttpRouteRule(rule: { filters?: readonly Obj[]; backendRefs?: readonly Obj[]; matches?: readonly { path?: { type?: string } }[] }, ctx: Ctx): void {
  if ((rule.backendRefs?.length ?? 0) > 0 && rule.filters?.some((f) => has(f, "requestRedirect"))) {
    add(ctx, [], "RequestRedirect filter must not be used together with backendRefs");
  }
  const matches = rule.matches ?? [{ path: { type: "PathPrefix" } }];
  const onePrefix = matches.length === 1 && (matches[0]!.path === undefined || (matches[0]!.path.type ?? "PathPrefix") === "PathPrefix");
  if (onePrefix) return;
  const backendFilters = (rule.backendRefs ?? []).filter((b) => prefixRewrite(b.filters, "requestRedirect")).length === 1;
  const backendRewrites = (rule.backendRefs ?? []).filter((b) => prefixRewrite(b.filters, "urlRewrite")).length === 1;
  const what = "path.replacePrefixMatch, exactly one PathPrefix match must be specified";
  if (prefixRewrite(rule.filters, "requestRedirect")) add(ctx, [], `When using RequestRedirect filter with ${what}`);
  if (prefixRewrite(rule.filters, "urlRewrite")) add(ctx, [], `When using URLRewrite filter with ${what}`);
  if (backendFilters) add(ctx, [], `Within backendRefs, when using RequestRedirect filter with ${what}`);
  if (backendRewrites) add(ctx, [], `Within backendRefs, When using URLRewrite filter with ${what}`);
}

const ADDRESS_HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Gateway `spec.addresses`: each value of its type, and no IP address or hostname twice. */
export function checkGatewayAddresses(addresses: readonly { type?: string; value?: string }[] | undefined, ctx: Ctx): void {
  addresses?.forEach((a, i) => {
    const type = a.type ?? "IPAddress";
    if (type === "Hostname" && a.value !== undefined && !ADDRESS_HOSTNAME.test(a.value)) {
      add(ctx, ["addresses", i], "Hostname value must be empty or contain only valid characters (matching ^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)");
    }
    if (type === "IPAddress" && a.value !== undefined && isIP(a.value) === 0) add(ctx, ["addresses", i, "value"], `${JSON.stringify(a.value)} must be an IP address`);
  });
  for (const type of ["IPAddress", "Hostname"]) {
    const values = (addresses ?? []).filter((a) => (a.type ?? "IPAddress") === type && a.value !== undefined).map((a) => a.value);
    if (new Set(values).size !== values.length) add(ctx, ["addresses"], `${type} values must be unique`);
  }
}

/** Gateway listeners' TLS: HTTPS terminates; terminating needs certificates or options. */
export function checkListenerTls(listeners: readonly { protocol: string; tls?: { mode?: string; certificateRefs?: readonly unknown[]; options?: Obj } }[], ctx: Ctx): void {
  if (listeners.some((l) => l.protocol === "HTTPS" && l.tls && (l.tls.mode ?? "Terminate") !== "Terminate")) {
    add(ctx, ["listeners"], "tls mode must be Terminate for protocol HTTPS");
  }
  listeners.forEach((l, i) => {
    if (l.tls && (l.tls.mode ?? "Terminate") === "Terminate" && !(l.tls.certificateRefs?.length) && !Object.keys(l.tls.options ?? {}).length) {
      add(ctx, ["listeners", i, "tls"], "certificateRefs or options must be specified when mode is Terminate");
    }
  });
}
