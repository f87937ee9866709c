// One AuthorizationPolicy rule → the clauses ztunnel evaluates (istiod: ambient
// authorization.go handleRule). The `from` list is one clause (its entries OR),
// the `to` list another, each `when` entry its own; clauses AND.
import type { AuthorizationAction, AuthorizationMatch } from "../../xds/resources.ts";
import { EMPTY_MATCH } from "../../xds/resources.ts";
import { addressRanges, ports, serviceAccountMatches, stringMatches } from "./_policy_values.ts";
import { arr, type Json, rec, str, strings } from "./_read.ts";

/** A rule as ztunnel gets it: clauses AND, a clause's matches OR. */
export type Clause = readonly AuthorizationMatch[];

export interface RuleTranslation {
  /** The clauses, or undefined when the rule can never fire at L4 (and is left out). */
  readonly clauses?: readonly Clause[];
  /** L7-only fields the rule uses, by name (`methods`, `request.headers[x-user]`). */
  readonly l7Fields: readonly string[];
}

const SOURCE_L7 = ["requestPrincipals", "notRequestPrincipals", "remoteIpBlocks", "notRemoteIpBlocks", "trustDomains", "notTrustDomains"];
const OPERATION_L7 = ["hosts", "notHosts", "methods", "notMethods", "paths", "notPaths"];

type WhenMapper = (values: string[], notValues: string[]) => Partial<AuthorizationMatch>;
/** The `when` keys ztunnel can check; every other key needs a waypoint. */
const L4_WHEN: Readonly<Record<string, WhenMapper>> = {
  "source.ip": (v, n) => ({ sourceIps: addressRanges(v), notSourceIps: addressRanges(n) }),
  "source.namespace": (v, n) => ({ namespaces: stringMatches(v), notNamespaces: stringMatches(n) }),
  "source.principal": (v, n) => ({ principals: stringMatches(v), notPrincipals: stringMatches(n) }),
  "destination.ip": (v, n) => ({ destinationIps: addressRanges(v), notDestinationIps: addressRanges(n) }),
  "destination.port": (v, n) => ({ destinationPorts: ports(v), notDestinationPorts: ports(n) }),
};

/** Translates one rule of a policy in `namespace`; L7 fields drop an ALLOW rule and are removed from a DENY rule. */
export function translateRule(rule: unknown, action: AuthorizationAction, namespace: string): RuleTranslation {
  const r = rec(rule);
  const l7 = new Set<string>();
  const clauses: AuthorizationMatch[][] = [];
  const from = arr(r.from).map((f) => sourceMatch(rec(rec(f).source), namespace, l7));
  if (from.length > 0) clauses.push(from);
  const to = arr(r.to).map((t) => operationMatch(rec(rec(t).operation), l7));
  if (to.length > 0) clauses.push(to);
  for (const w of arr(r.when)) clauses.push([whenMatch(rec(w), l7)]);

  const l7Fields = [...l7].sort();
  // An ALLOW rule that needs L7 facts fails closed: ztunnel cannot tell whether it matched.
  if (action === "ALLOW" && l7Fields.length > 0) return { l7Fields };
  // ztunnel ignores a match with no condition, so a clause left with none never matches,
  // and the whole rule (clauses AND) never fires: leave it out rather than send a no-op.
  const kept = clauses.map((c) => c.filter((m) => !isEmptyMatch(m)));
  if (kept.some((c) => c.length === 0)) return { l7Fields };
  return { clauses: kept, l7Fields };
}

function sourceMatch(s: Json, namespace: string, l7: Set<string>): AuthorizationMatch {
  for (const f of SOURCE_L7) if (strings(s[f]).length > 0) l7.add(f);
  return {
    ...EMPTY_MATCH,
    principals: stringMatches(strings(s.principals)),
    notPrincipals: stringMatches(strings(s.notPrincipals)),
    namespaces: stringMatches(strings(s.namespaces)),
    notNamespaces: stringMatches(strings(s.notNamespaces)),
    serviceAccounts: serviceAccountMatches(strings(s.serviceAccounts), namespace),
    notServiceAccounts: serviceAccountMatches(strings(s.notServiceAccounts), namespace),
    sourceIps: addressRanges(strings(s.ipBlocks)),
    notSourceIps: addressRanges(strings(s.notIpBlocks)),
  };
}

function operationMatch(o: Json, l7: Set<string>): AuthorizationMatch {
  for (const f of OPERATION_L7) if (strings(o[f]).length > 0) l7.add(f);
  return { ...EMPTY_MATCH, destinationPorts: ports(strings(o.ports)), notDestinationPorts: ports(strings(o.notPorts)) };
}

function whenMatch(w: Json, l7: Set<string>): AuthorizationMatch {
  const key = str(w.key) ?? "";
  const mapper = L4_WHEN[key];
  if (!mapper) {
    l7.add(key);
    return EMPTY_MATCH;
  }
  return { ...EMPTY_MATCH, ...mapper(strings(w.values), strings(w.notValues)) };
}

/** True when a match sets no condition (ztunnel skips such a match: it never matches). */
export function isEmptyMatch(m: AuthorizationMatch): boolean {
  return Object.values(m).every((v) => (v as readonly unknown[]).length === 0);
}
