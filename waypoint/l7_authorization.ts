// L7 AuthorizationPolicy as a waypoint enforces it (Envoy's RBAC filter as
// istiod configures it): CUSTOM policies that match go to ext_authz first (the
// filter before this one); then any matching DENY denies; with no ALLOW policy
// the request is allowed; else an ALLOW must match. AUDIT policies only mark the
// request. Dry-run policies are evaluated beside, never enforced (as at L4).
import { BlockList, isIP } from "node:net";
import type { L7Authorization, L7Condition, L7Operation, L7Rule, L7Source } from "../xds/l7_policy_resources.ts";

/** A verified JWT's facts, as RequestAuthentication leaves them. */
export interface RequestAuth {
  /** `<iss>/<sub>`. */
  readonly principal: string;
  readonly audiences: readonly string[];
  /** `azp`. */
  readonly presenter?: string;
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Everything a policy can ask about one request. */
export interface L7RequestFacts {
  /** The caller's mTLS principal without `spiffe://`; absent for none. */
  readonly sourcePrincipal?: string;
  readonly sourceNamespace?: string;
  readonly sourceIp: string;
  /** The original client (Istio's remote.ip); in ambient, the source ztunnel forwards it, so the same as sourceIp. */
  readonly remoteIp: string;
  readonly destinationIp: string;
  readonly destinationPort: number;
  /** Host / :authority. */
  readonly host: string;
  readonly method: string;
  /** The normalized path, without the query. */
  readonly path: string;
  /** A request header by lower-case name; repeated ones joined with ",". */
  readonly header: (name: string) => string | undefined;
  readonly auth?: RequestAuth;
}

/** What the enforced policies decided, and what dry-run ones would have. */
export interface L7Decision {
  readonly allowed: boolean;
  /** "namespace/name" of the deciding policy, when one decided. */
  readonly policy?: string;
  readonly reason: "denied-by-policy" | "no-allow-policies" | "allowed-by-policy" | "no-allow-match";
  /** AUDIT policies that match: the request is logged as audited. */
  readonly audit: readonly string[];
  readonly dryRun?: { readonly wouldAllow: boolean; readonly policy?: string };
}

type Check = (f: L7RequestFacts) => boolean;
interface Compiled {
  readonly policy: L7Authorization;
  readonly key: string;
  readonly matches: Check;
}
interface CompiledSet {
  readonly enforced: readonly Compiled[];
  readonly dry: readonly Compiled[];
  readonly custom: readonly Compiled[];
  readonly audit: readonly Compiled[];
}

const compiled = new WeakMap<readonly L7Authorization[], CompiledSet>();

function compileSet(policies: readonly L7Authorization[]): CompiledSet {
  let set = compiled.get(policies);
  if (!set) {
    const all = policies.map((p) => ({ policy: p, key: `${p.namespace}/${p.name}`, matches: compilePolicy(p) }));
    const acting = (c: Compiled) => c.policy.action === "ALLOW" || c.policy.action === "DENY";
    set = {
      enforced: all.filter((c) => acting(c) && !c.policy.dryRun),
      dry: all.filter((c) => acting(c) && c.policy.dryRun),
      custom: all.filter((c) => c.policy.action === "CUSTOM" && !c.policy.dryRun),
      audit: all.filter((c) => c.policy.action === "AUDIT"),
    };
    compiled.set(policies, set);
  }
  return set;
}

/** Decides DENY / ALLOW (and AUDIT, dry-run) for one request; CUSTOM is {@link customPoliciesFor}'s. */
export function authorizeRequest(policies: readonly L7Authorization[], facts: L7RequestFacts): L7Decision {
  const set = compileSet(policies);
  const audit = set.audit.filter((c) => c.matches(facts)).map((c) => c.key);
  const decision = { ...decide(set.enforced, facts), audit };
  if (set.dry.length === 0) return decision;
  const would = decide([...set.enforced, ...set.dry], facts);
  return { ...decision, dryRun: { wouldAllow: would.allowed, policy: would.policy } };
}

/** The CUSTOM policies whose rules match the request (each names its ext_authz provider). */
export function customPoliciesFor(policies: readonly L7Authorization[], facts: L7RequestFacts): readonly L7Authorization[] {
  return compileSet(policies).custom.filter((c) => c.matches(facts)).map((c) => c.policy);
}

function decide(list: readonly Compiled[], facts: L7RequestFacts): Omit<L7Decision, "audit"> {
  for (const c of list) if (c.policy.action === "DENY" && c.matches(facts)) return { allowed: false, policy: c.key, reason: "denied-by-policy" };
  let anyAllow = false;
  for (const c of list) {
    if (c.policy.action !== "ALLOW") continue;
    anyAllow = true;
    if (c.matches(facts)) return { allowed: true, policy: c.key, reason: "allowed-by-policy" };
  }
  return anyAllow ? { allowed: false, reason: "no-allow-match" } : { allowed: true, reason: "no-allow-policies" };
}

/** A policy matches when any rule does; a rule when its from, to and when all do. */
function compilePolicy(p: L7Authorization): Check {
  const rules = p.rules.map(compileRule);
  if (rules.length === 0) return () => false;
  return rules.length === 1 ? rules[0]! : (f) => rules.some((r) => r(f));
}

function compileRule(rule: L7Rule): Check {
  const parts: Check[] = [];
  if (rule.from?.length) {
    const sources = rule.from.map((s) => all(compileSource(s.source)));
    parts.push((f) => sources.some((s) => s(f)));
  }
  if (rule.to?.length) {
    const ops = rule.to.map((o) => all(compileOperation(o.operation)));
    parts.push((f) => ops.some((o) => o(f)));
  }
  for (const c of rule.when ?? []) parts.push(compileCondition(c));
  return all(parts);
}

function all(checks: readonly Check[]): Check {
  if (checks.length === 0) return () => true;
  return checks.length === 1 ? checks[0]! : (f) => checks.every((c) => c(f));
}

/** `values` must match; `notValues` must not (a missing attribute matches no value, so it passes a `not`). */
function field(checks: Check[], values: readonly string[] | undefined, negated: readonly string[] | undefined, test: (f: L7RequestFacts, v: string) => boolean): void {
  if (values?.length) checks.push((f) => values.some((v) => test(f, v)));
  if (negated?.length) checks.push((f) => !negated.some((v) => test(f, v)));
}

function compileSource(s: L7Source): Check[] {
  const checks: Check[] = [];
  field(checks, s.principals, s.notPrincipals, (f, v) => f.sourcePrincipal !== undefined && wildcard(v, f.sourcePrincipal));
  field(checks, s.requestPrincipals, s.notRequestPrincipals, (f, v) => f.auth !== undefined && wildcard(v, f.auth.principal));
  field(checks, s.namespaces, s.notNamespaces, (f, v) => f.sourceNamespace !== undefined && wildcard(v, f.sourceNamespace));
  ipField(checks, s.ipBlocks, s.notIpBlocks, (f) => f.sourceIp);
  ipField(checks, s.remoteIpBlocks, s.notRemoteIpBlocks, (f) => f.remoteIp);
  return checks;
}

function compileOperation(o: L7Operation): Check[] {
  const checks: Check[] = [];
  field(checks, o.hosts, o.notHosts, (f, v) => hostMatches(v, f.host));
  field(checks, o.ports, o.notPorts, (f, v) => Number(v) === f.destinationPort);
  field(checks, o.methods, o.notMethods, (f, v) => wildcard(v, f.method));
  const paths = (list?: readonly string[]) => list?.map(pathMatcher);
  const pos = paths(o.paths);
  const neg = paths(o.notPaths);
  if (pos?.length) checks.push((f) => pos.some((m) => m(f.path)));
  if (neg?.length) checks.push((f) => !neg.some((m) => m(f.path)));
  return checks;
}

function ipField(checks: Check[], values: readonly string[] | undefined, negated: readonly string[] | undefined, pick: (f: L7RequestFacts) => string): void {
  const list = (v?: readonly string[]) => (v?.length ? blockList(v) : undefined);
  const pos = list(values);
  const neg = list(negated);
  if (pos) checks.push((f) => inBlocks(pos, pick(f)));
  if (neg) checks.push((f) => !inBlocks(neg, pick(f)));
}

function compileCondition(c: L7Condition): Check {
  const checks: Check[] = [];
  const key = c.key;
  if (key === "source.ip" || key === "remote.ip" || key === "destination.ip") {
    const pick = key === "source.ip" ? (f: L7RequestFacts) => f.sourceIp : key === "remote.ip" ? (f: L7RequestFacts) => f.remoteIp : (f: L7RequestFacts) => f.destinationIp;
    ipField(checks, c.values, c.notValues, pick);
    return all(checks);
  }
  const values = attribute(key);
  field(checks, c.values, c.notValues, (f, v) => values(f).some((actual) => wildcard(v, actual)));
  return all(checks);
}

/** The values a `when` key has for a request (none when absent; a claim list has several). */
function attribute(key: string): (f: L7RequestFacts) => readonly string[] {
  const one = (v: string | undefined) => (v === undefined ? [] : [v]);
  switch (key) {
    case "destination.port": return (f) => [String(f.destinationPort)];
    case "source.namespace": return (f) => one(f.sourceNamespace);
    case "source.principal": return (f) => one(f.sourcePrincipal);
    case "source.serviceAccount": return (f) => one(f.sourcePrincipal && /\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(f.sourcePrincipal)?.slice(1).join("/"));
    case "request.auth.principal": return (f) => one(f.auth?.principal);
    case "request.auth.audiences": return (f) => f.auth?.audiences ?? [];
    case "request.auth.presenter": return (f) => one(f.auth?.presenter);
  }
  const header = /^request\.headers\[([^\]]+)\]$/.exec(key);
  if (header) {
    const name = header[1]!.toLowerCase();
    return (f) => one(f.header(name));
  }
  if (key.startsWith("request.auth.claims[")) {
    const path = [...key.slice("request.auth.claims".length).matchAll(/\[([^\]]+)\]/g)].map((m) => m[1]!);
    return (f) => claimValues(f.auth?.claims, path);
  }
  // connection.sni and experimental.* are not known to a plaintext HTTP waypoint: no value, so `values` never match.
  return () => [];
}

/** A claim at a nested path: a string, or each string of a list (Istio). */
export function claimValues(claims: Readonly<Record<string, unknown>> | undefined, path: readonly string[]): string[] {
  let v: unknown = claims;
  for (const p of path) {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return [];
    v = (v as Record<string, unknown>)[p];
  }
  if (typeof v === "string") return [v];
  if (typeof v === "number" || typeof v === "boolean") return [String(v)];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  return [];
}

/** Istio's string match: `*` any non-empty value, `prefix*`, `*suffix`, else exact. */
export function wildcard(pattern: string, value: string): boolean {
  if (pattern === "*") return value !== "";
  if (pattern.endsWith("*")) return value.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith("*")) return value.endsWith(pattern.slice(1));
  return value === pattern;
}

/** Hosts compare case-insensitively; a host without a port also matches it with any port. */
function hostMatches(pattern: string, authority: string): boolean {
  const host = authority.toLowerCase();
  const p = pattern.toLowerCase();
  if (wildcard(p, host)) return true;
  const bare = host.replace(/:\d+$/, "");
  return bare !== host && !/:\d+$/.test(p) && wildcard(p, bare);
}

/** A `paths` entry: exact, `prefix*`, `*suffix`, `*`, or a template with `{*}` (one segment) and `{**}` (the rest). */
export function pathMatcher(pattern: string): (path: string) => boolean {
  if (pattern.includes("{*}") || pattern.includes("{**}")) {
    const re = new RegExp("^" + pattern.split(/(\{\*\*\}|\{\*\})/).map((part) =>
      part === "{**}" ? "[^?#]*" : part === "{*}" ? "[^/?#]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    ).join("") + "$");
    return (path) => re.test(path);
  }
  return (path) => wildcard(pattern, path);
}

function blockList(values: readonly string[]): BlockList {
  const list = new BlockList();
  for (const v of values) {
    const [address, bits] = v.split("/") as [string, string | undefined];
    const family = isIP(address) === 6 ? "ipv6" : "ipv4";
    if (isIP(address) === 0) continue;
    list.addSubnet(address, bits === undefined ? (family === "ipv6" ? 128 : 32) : Number(bits), family);
  }
  return list;
}

function inBlocks(list: BlockList, ip: string): boolean {
  const address = ip.replace(/^::ffff:(?=\d+\.)/i, "");
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? "ipv6" : "ipv4");
}
