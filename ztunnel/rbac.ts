// L4 authorization as ztunnel enforces it (istio/ztunnel src/rbac.rs): any
// matching DENY denies; with no ALLOW policy the connection is allowed; else an
// ALLOW must match. Dry-run policies are evaluated beside, never enforced.
import { isIP } from "node:net";
import { principalOf, type SpiffeId } from "../identity/mod.ts";
import type { AddressRange, Authorization, AuthorizationMatch, StringMatch } from "../xds/resources.ts";
import { namespacedKey } from "../xds/resources.ts";

/** The facts a policy is checked against. */
export interface ConnectionFacts {
  /** Verified peer identity; absent for plaintext connections. */
  readonly sourceIdentity?: SpiffeId;
  readonly sourceAddress: string;
  readonly destinationAddress: string;
  readonly destinationPort: number;
}

/** Why a connection was allowed or denied, and by which policy. */
export interface AuthorizationDecision {
  readonly allowed: boolean;
  /** "namespace/name" of the deciding policy, if one decided. */
  readonly policy?: string;
  readonly reason: "denied-by-policy" | "no-allow-policies" | "allowed-by-policy" | "no-allow-match";
  /** What dry-run policies would have decided, when any apply. */
  readonly dryRun?: { readonly wouldAllow: boolean; readonly policy?: string };
}

/** The facts with what every match compares against worked out once per connection. */
interface PreparedFacts extends ConnectionFacts {
  readonly namespace: string;
  readonly principal?: string;
}

type Check = (f: PreparedFacts) => boolean;

/** A policy compiled into one predicate, with what a decision reports. */
interface CompiledPolicy {
  readonly action: Authorization["action"];
  readonly key: string;
  readonly matches: Check;
  /** When set, the policy can only match a source whose principal is in it. */
  readonly principals?: ReadonlySet<string>;
}

/** A compiled list, with per-principal candidate lists so a decision skips policies naming others. */
class CompiledList {
  readonly #gated = new Map<string, CompiledPolicy[]>();
  readonly #ungated: CompiledPolicy[];
  readonly #byPrincipal = new Map<string | undefined, CompiledPolicy[]>();
  /** Whether any ALLOW policy exists: with none, what no DENY matches is allowed. */
  readonly anyAllow: boolean;

  constructor(readonly policies: readonly CompiledPolicy[]) {
    this.anyAllow = policies.some((p) => p.action === "ALLOW");
    this.#ungated = policies.filter((p) => !p.principals);
    for (const p of policies) for (const principal of p.principals ?? []) {
      const list = this.#gated.get(principal) ?? [];
      list.push(p);
      this.#gated.set(principal, list);
    }
  }

  /** The policies that could match this principal, in their original order. */
  candidates(principal: string | undefined): readonly CompiledPolicy[] {
    if (this.#ungated.length === this.policies.length) return this.policies;
    let list = this.#byPrincipal.get(principal);
    if (!list) {
      const gated = new Set(principal === undefined ? [] : this.#gated.get(principal) ?? []);
      list = this.policies.filter((p) => !p.principals || gated.has(p));
      if (this.#byPrincipal.size < 10_000) this.#byPrincipal.set(principal, list);
    }
    return list;
  }
}

/**
 * Policy lists are immutable per state, so each is compiled once: enforced and
 * dry-run split, every rule, clause and match turned into plain predicates that
 * check only the fields a match sets.
 */
const compiledLists = new WeakMap<readonly Authorization[], { enforced: CompiledList; all: CompiledList; hasDryRun: boolean }>();

/** Decides a connection against the policies that apply to its destination workload. */
export function authorize(policies: readonly Authorization[], facts: ConnectionFacts): AuthorizationDecision {
  let list = compiledLists.get(policies);
  if (!list) {
    const enforced = policies.filter((p) => !p.dryRun).map(compilePolicy);
    const dry = policies.filter((p) => p.dryRun).map(compilePolicy);
    list = { enforced: new CompiledList(enforced), all: new CompiledList([...enforced, ...dry]), hasDryRun: dry.length > 0 };
    compiledLists.set(policies, list);
  }
  const prepared = prepare(facts);
  const decision = decide(list.enforced, prepared);
  if (!list.hasDryRun) return decision;
  // Dry-run: what would the outcome be with these policies enforced too.
  const would = decide(list.all, prepared);
  return { ...decision, dryRun: { wouldAllow: would.allowed, policy: would.policy } };
}

function decide(list: CompiledList, facts: PreparedFacts): AuthorizationDecision {
  const anyAllow = list.anyAllow;
  const policies = list.candidates(facts.principal);
  for (const p of policies) {
    if (p.action === "DENY" && p.matches(facts)) return { allowed: false, policy: p.key, reason: "denied-by-policy" };
  }
  for (const p of policies) {
    if (p.action === "ALLOW" && p.matches(facts)) return { allowed: true, policy: p.key, reason: "allowed-by-policy" };
  }
  return anyAllow ? { allowed: false, reason: "no-allow-match" } : { allowed: true, reason: "no-allow-policies" };
}

/** A policy matches when any rule does; a rule when all its clauses do; a clause when any match does. */
export function policyMatches(p: Authorization, facts: ConnectionFacts): boolean {
  return compilePolicy(p).matches(prepare(facts));
}

function prepare(facts: ConnectionFacts): PreparedFacts {
  return { ...facts, namespace: facts.sourceIdentity?.namespace ?? "", principal: facts.sourceIdentity ? principalOf(facts.sourceIdentity) : undefined };
}

/**
 * The exact principals a policy needs, if it needs any: a rule needs what any of
 * its clauses needs (clauses AND), a clause what all its matches need together
 * (matches OR), a match its exact `principals` when it lists only exact ones.
 */
function principalGate(p: Authorization): Set<string> | undefined {
  const union = (sets: (Set<string> | undefined)[]) => (sets.some((s) => s === undefined) ? undefined : new Set(sets.flatMap((s) => [...s!])));
  const matchGate = (m: AuthorizationMatch) =>
    m.principals.length > 0 && m.principals.every((s) => "exact" in s) ? new Set(m.principals.map((s) => (s as { exact: string }).exact)) : undefined;
  const ruleGate = (rule: readonly (readonly AuthorizationMatch[])[]) => {
    for (const clause of rule) {
      if (clause.length === 0) continue;
      const g = union(clause.map(matchGate));
      if (g) return g;
    }
    return undefined;
  };
  return p.rules.length === 0 ? undefined : union(p.rules.map(ruleGate));
}

function compilePolicy(p: Authorization): CompiledPolicy {
  const rules: Check[] = p.rules.map((rule) => {
    const clauses: Check[] = rule.filter((clause) => clause.length > 0).map((clause) => {
      const matches = clause.map(compileMatch).filter((m): m is Check => m !== undefined);
      return matches.length === 1 ? matches[0]! : (f) => matches.some((m) => m(f));
    });
    return (f) => clauses.every((c) => c(f));
  });
  return {
    action: p.action,
    key: namespacedKey(p),
    matches: rules.length === 0 ? () => false : rules.length === 1 ? rules[0]! : (f) => rules.some((r) => r(f)),
    principals: principalGate(p),
  };
}

/** A match as one predicate over just the fields it sets; undefined when it sets none (never matches, as in ztunnel). */
function compileMatch(m: AuthorizationMatch): Check | undefined {
  const checks: Check[] = [];
  const str = (values: readonly StringMatch[], pick: (f: PreparedFacts) => string | undefined, negate: boolean) => {
    if (values.length === 0) return;
    const exact = new Set(values.flatMap((v) => ("exact" in v ? [v.exact] : [])));
    const other = values.filter((v) => !("exact" in v));
    checks.push((f) => {
      const v = pick(f);
      const hit = v !== undefined && (exact.has(v) || other.some((s) => stringMatches(s, v)));
      return hit !== negate;
    });
  };
  const sa = (values: readonly { namespace: string; serviceAccount: string }[], negate: boolean) => {
    if (values.length === 0) return;
    checks.push((f) => {
      const id = f.sourceIdentity;
      return (!!id && values.some((s) => s.namespace === id.namespace && s.serviceAccount === id.serviceAccount)) !== negate;
    });
  };
  const ips = (values: readonly AddressRange[], pick: (f: PreparedFacts) => string, negate: boolean) => {
    if (values.length === 0) return;
    checks.push((f) => values.some((r) => inRange(pick(f), r)) !== negate);
  };
  const ports = (values: readonly number[], negate: boolean) => {
    if (values.length === 0) return;
    const set = new Set(values);
    checks.push((f) => set.has(f.destinationPort) !== negate);
  };
  str(m.namespaces, (f) => f.namespace, false);
  str(m.notNamespaces, (f) => f.namespace, true);
  sa(m.serviceAccounts, false);
  sa(m.notServiceAccounts, true);
  str(m.principals, (f) => f.principal, false);
  str(m.notPrincipals, (f) => f.principal, true);
  ips(m.sourceIps, (f) => f.sourceAddress, false);
  ips(m.notSourceIps, (f) => f.sourceAddress, true);
  ips(m.destinationIps, (f) => f.destinationAddress, false);
  ips(m.notDestinationIps, (f) => f.destinationAddress, true);
  ports(m.destinationPorts, false);
  ports(m.notDestinationPorts, true);
  if (checks.length === 0) return undefined;
  return checks.length === 1 ? checks[0]! : (f) => checks.every((c) => c(f));
}

/** Exact, prefix, suffix, or presence (any non-empty value). */
export function stringMatches(m: StringMatch, value: string): boolean {
  if ("exact" in m) return value === m.exact;
  if ("prefix" in m) return value.startsWith(m.prefix);
  if ("suffix" in m) return value.endsWith(m.suffix);
  return value !== "";
}

/** True when `address` lies in the CIDR range. */
export function inRange(address: string, range: AddressRange): boolean {
  const a = toBits(address.replace(/^::ffff:(?=\d+\.)/i, ""));
  const r = toBits(range.address);
  if (!a || !r || a.length !== r.length) return false;
  for (let i = 0; i < range.length; i++) if (a[i] !== r[i]) return false;
  return true;
}

function toBits(ip: string): number[] | undefined {
  const family = isIP(ip);
  if (family === 4) return ip.split(".").flatMap((o) => byteBits(Number(o)));
  if (family !== 6) return undefined;
  // A dotted IPv4 tail (::ffff:10.1.2.3, 0:0:0:0:0:ffff:10.1.2.3) is two groups.
  const dotted = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  const hex = dotted
    ? `${dotted[1]}${((Number(dotted[2]) << 8) | Number(dotted[3])).toString(16)}:${((Number(dotted[4]) << 8) | Number(dotted[5])).toString(16)}`
    : ip;
  const [head, tail] = hex.split("::") as [string, string | undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [...byteBits(n >> 8), ...byteBits(n & 0xff)];
  });
}

function byteBits(n: number): number[] {
  return Array.from({ length: 8 }, (_, i) => (n >> (7 - i)) & 1);
}
