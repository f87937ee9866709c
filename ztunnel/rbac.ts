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

/** Decides a connection against the policies that apply to its destination workload. */
export function authorize(policies: readonly Authorization[], facts: ConnectionFacts): AuthorizationDecision {
  const enforced = policies.filter((p) => !p.dryRun);
  const decision = decide(enforced, facts);
  const dry = policies.filter((p) => p.dryRun);
  if (dry.length === 0) return decision;
  // Dry-run: what would the outcome be with these policies enforced too.
  const would = decide([...enforced, ...dry], facts);
  return { ...decision, dryRun: { wouldAllow: would.allowed, policy: would.policy } };
}

function decide(policies: readonly Authorization[], facts: ConnectionFacts): AuthorizationDecision {
  for (const p of policies) {
    if (p.action === "DENY" && policyMatches(p, facts)) return { allowed: false, policy: namespacedKey(p), reason: "denied-by-policy" };
  }
  const allows = policies.filter((p) => p.action === "ALLOW");
  if (allows.length === 0) return { allowed: true, reason: "no-allow-policies" };
  for (const p of allows) {
    if (policyMatches(p, facts)) return { allowed: true, policy: namespacedKey(p), reason: "allowed-by-policy" };
  }
  return { allowed: false, reason: "no-allow-match" };
}

/** A policy matches when any rule does; a rule when all its clauses do; a clause when any match does. */
export function policyMatches(p: Authorization, facts: ConnectionFacts): boolean {
  return p.rules.some((rule) => rule.every((clause) => clause.length === 0 || clause.some((m) => matchHolds(m, facts))));
}

const FIELDS = Object.keys({
  namespaces: 0, notNamespaces: 0, serviceAccounts: 0, notServiceAccounts: 0, principals: 0, notPrincipals: 0,
  sourceIps: 0, notSourceIps: 0, destinationIps: 0, notDestinationIps: 0, destinationPorts: 0, notDestinationPorts: 0,
}) as (keyof AuthorizationMatch)[];

function matchHolds(m: AuthorizationMatch, f: ConnectionFacts): boolean {
  // A match with no condition at all is ignored, as ztunnel does.
  if (FIELDS.every((k) => m[k].length === 0)) return false;
  const id = f.sourceIdentity;
  const ns = id?.namespace ?? "";
  const principal = id ? principalOf(id) : undefined;
  const sa = (s: { namespace: string; serviceAccount: string }) => !!id && s.namespace === id.namespace && s.serviceAccount === id.serviceAccount;
  return (
    anyOrEmpty(m.namespaces, (s) => stringMatches(s, ns)) && none(m.notNamespaces, (s) => stringMatches(s, ns)) &&
    anyOrEmpty(m.serviceAccounts, sa) && none(m.notServiceAccounts, sa) &&
    anyOrEmpty(m.principals, (s) => principal !== undefined && stringMatches(s, principal)) &&
    none(m.notPrincipals, (s) => principal !== undefined && stringMatches(s, principal)) &&
    anyOrEmpty(m.sourceIps, (r) => inRange(f.sourceAddress, r)) && none(m.notSourceIps, (r) => inRange(f.sourceAddress, r)) &&
    anyOrEmpty(m.destinationIps, (r) => inRange(f.destinationAddress, r)) && none(m.notDestinationIps, (r) => inRange(f.destinationAddress, r)) &&
    anyOrEmpty(m.destinationPorts, (p) => p === f.destinationPort) && none(m.notDestinationPorts, (p) => p === f.destinationPort)
  );
}

function anyOrEmpty<T>(values: readonly T[], test: (v: T) => boolean): boolean {
  return values.length === 0 || values.some(test);
}

function none<T>(values: readonly T[], test: (v: T) => boolean): boolean {
  return !values.some(test);
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
