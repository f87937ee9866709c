// Table tests for L4 authorization as ztunnel enforces it (istio/ztunnel
// src/rbac.rs and DemandProxyState::assert_rbac): DENY first, then "no ALLOW
// policy → allow", then an ALLOW must match. Dry-run policies are reported only.
import { expect, test } from "bun:test";
import { spiffeId } from "../identity/mod.ts";
import {
  type AddressRange, type Authorization, type AuthorizationAction, type AuthorizationMatch, EMPTY_MATCH, type StringMatch,
} from "../xds/resources.ts";
import { type AuthorizationDecision, type ConnectionFacts, authorize, inRange, policyMatches, stringMatches } from "./rbac.ts";

const TD = "cluster.local";
const SLEEP = spiffeId(TD, "default", "sleep"); // principal "cluster.local/ns/default/sa/sleep"
const CLIENT = spiffeId(TD, "other", "client");

/** A match built from EMPTY_MATCH with only the given conditions. */
const m = (over: Partial<AuthorizationMatch>): AuthorizationMatch => ({ ...EMPTY_MATCH, ...over });

/** "10.0.0.0/8" → { address, length }. */
function cidr(s: string): AddressRange {
  const [address, length] = s.split("/");
  return { address: address!, length: Number(length) };
}

type Rules = Authorization["rules"];

function policy(name: string, action: AuthorizationAction, rules: Rules, extra: Partial<Authorization> = {}): Authorization {
  return { name, namespace: "default", scope: "NAMESPACE", action, rules, dryRun: false, ...extra };
}
/** One rule, one clause, the given matches (ORed). */
const one = (...matches: AuthorizationMatch[]): Rules => [[matches]];
const allow = (name: string, rules: Rules) => policy(name, "ALLOW", rules);
const deny = (name: string, rules: Rules) => policy(name, "DENY", rules);
const dryAllow = (name: string, rules: Rules) => policy(name, "ALLOW", rules, { dryRun: true });
const dryDeny = (name: string, rules: Rules) => policy(name, "DENY", rules, { dryRun: true });

/** An mTLS connection from default/sleep at 10.1.2.3 to 10.9.0.5:8080, unless overridden. */
function facts(over: Partial<ConnectionFacts> = {}): ConnectionFacts {
  return { sourceIdentity: SLEEP, sourceAddress: "10.1.2.3", destinationAddress: "10.9.0.5", destinationPort: 8080, ...over };
}
const PLAINTEXT: Partial<ConnectionFacts> = { sourceIdentity: undefined };

// Shorthands for expected decisions.
const ALLOWED_NO_ALLOW: AuthorizationDecision = { allowed: true, reason: "no-allow-policies" };
const DENIED_NO_MATCH: AuthorizationDecision = { allowed: false, reason: "no-allow-match" };
const allowedBy = (name: string): AuthorizationDecision => ({ allowed: true, reason: "allowed-by-policy", policy: `default/${name}` });
const deniedBy = (name: string): AuthorizationDecision => ({ allowed: false, reason: "denied-by-policy", policy: `default/${name}` });

interface AuthorizeRow {
  readonly name: string;
  readonly policies: readonly Authorization[];
  readonly facts?: Partial<ConnectionFacts>;
  readonly want: AuthorizationDecision;
}

const exact = (s: string): StringMatch => ({ exact: s });
const prefix = (s: string): StringMatch => ({ prefix: s });
const suffix = (s: string): StringMatch => ({ suffix: s });
const PRESENCE: StringMatch = { presence: true };

const authorizeRows: AuthorizeRow[] = [
  // --- decision order ---
  { name: "no policies at all: allowed", policies: [], want: ALLOWED_NO_ALLOW },
  {
    name: "only a DENY that does not match: allowed (no ALLOW policy)",
    policies: [deny("d", one(m({ destinationPorts: [9999] })))],
    want: ALLOWED_NO_ALLOW,
  },
  {
    name: "matching DENY beats matching ALLOW",
    policies: [allow("a", one(m({ destinationPorts: [8080] }))), deny("d", one(m({ principals: [exact("cluster.local/ns/default/sa/sleep")] })))],
    want: deniedBy("d"),
  },
  {
    name: "ALLOW present but not matching: denied",
    policies: [allow("a", one(m({ destinationPorts: [9090] })))],
    want: DENIED_NO_MATCH,
  },
  {
    name: "second of two ALLOWs matches: allowed by it",
    policies: [allow("a", one(m({ destinationPorts: [9090] }))), allow("b", one(m({ destinationPorts: [8080] })))],
    want: allowedBy("b"),
  },
  // --- principals (identity without spiffe://) ---
  {
    name: "principals exact match",
    policies: [allow("a", one(m({ principals: [exact("cluster.local/ns/default/sa/sleep")] })))],
    want: allowedBy("a"),
  },
  {
    name: "principals exact: other service account does not match",
    policies: [allow("a", one(m({ principals: [exact("cluster.local/ns/default/sa/curl")] })))],
    want: DENIED_NO_MATCH,
  },
  {
    name: "principals are compared without spiffe://: a policy spelling it never matches",
    policies: [allow("a", one(m({ principals: [exact("spiffe://cluster.local/ns/default/sa/sleep")] })))],
    want: DENIED_NO_MATCH,
  },
  {
    name: "principals prefix",
    policies: [allow("a", one(m({ principals: [prefix("cluster.local/ns/default/")] })))],
    want: allowedBy("a"),
  },
  {
    name: "principals prefix of another namespace does not match",
    policies: [allow("a", one(m({ principals: [prefix("cluster.local/ns/prod/")] })))],
    want: DENIED_NO_MATCH,
  },
  {
    name: "principals suffix",
    policies: [allow("a", one(m({ principals: [suffix("/sa/sleep")] })))],
    want: allowedBy("a"),
  },
  {
    name: "principals presence with an identity",
    policies: [allow("a", one(m({ principals: [PRESENCE] })))],
    want: allowedBy("a"),
  },
  {
    name: "principals presence, plaintext: no match",
    policies: [allow("a", one(m({ principals: [PRESENCE] })))],
    facts: PLAINTEXT,
    want: DENIED_NO_MATCH,
  },
  {
    name: "principals: any value of the list may match",
    policies: [allow("a", one(m({ principals: [exact("td/ns/x/sa/y"), suffix("/sa/sleep")] })))],
    want: allowedBy("a"),
  },
  {
    name: "notPrincipals naming the peer: no match",
    policies: [allow("a", one(m({ notPrincipals: [exact("cluster.local/ns/default/sa/sleep")] })))],
    want: DENIED_NO_MATCH,
  },
  {
    name: "notPrincipals naming someone else: match",
    policies: [allow("a", one(m({ notPrincipals: [exact("cluster.local/ns/default/sa/sleep")] })))],
    facts: { sourceIdentity: CLIENT },
    want: allowedBy("a"),
  },
  {
    name: "notPrincipals, plaintext: nothing to exclude, so it matches (as ztunnel)",
    policies: [deny("d", one(m({ notPrincipals: [prefix("cluster.local/")] })))],
    facts: PLAINTEXT,
    want: deniedBy("d"),
  },
  // --- namespaces ---
  {
    name: "namespaces exact match",
    policies: [allow("a", one(m({ namespaces: [exact("default")] })))],
    want: allowedBy("a"),
  },
  {
    name: "namespaces: peer from another namespace does not match",
    policies: [allow("a", one(m({ namespaces: [exact("default")] })))],
    facts: { sourceIdentity: CLIENT },
    want: DENIED_NO_MATCH,
  },
  {
    name: "namespaces prefix",
    policies: [allow("a", one(m({ namespaces: [prefix("oth")] })))],
    facts: { sourceIdentity: CLIENT },
    want: allowedBy("a"),
  },
  {
    name: "namespaces, plaintext: no match",
    policies: [allow("a", one(m({ namespaces: [exact("default")] })))],
    facts: PLAINTEXT,
    want: DENIED_NO_MATCH,
  },
  {
    name: "notNamespaces naming the peer's namespace: a DENY on it does not fire",
    policies: [deny("d", one(m({ notNamespaces: [exact("default")] })))],
    want: ALLOWED_NO_ALLOW,
  },
  {
    name: "notNamespaces: a peer from elsewhere is denied",
    policies: [deny("d", one(m({ notNamespaces: [exact("default")] })))],
    facts: { sourceIdentity: CLIENT },
    want: deniedBy("d"),
  },
  // --- serviceAccounts ---
  {
    name: "serviceAccounts exact namespace and account",
    policies: [allow("a", one(m({ serviceAccounts: [{ namespace: "default", serviceAccount: "sleep" }] })))],
    want: allowedBy("a"),
  },
  {
    name: "serviceAccounts: same account name in another namespace does not match",
    policies: [allow("a", one(m({ serviceAccounts: [{ namespace: "prod", serviceAccount: "sleep" }] })))],
    want: DENIED_NO_MATCH,
  },
  {
    name: "serviceAccounts, plaintext: no match",
    policies: [allow("a", one(m({ serviceAccounts: [{ namespace: "default", serviceAccount: "sleep" }] })))],
    facts: PLAINTEXT,
    want: DENIED_NO_MATCH,
  },
  {
    name: "notServiceAccounts naming the peer: no match",
    policies: [allow("a", one(m({ notServiceAccounts: [{ namespace: "default", serviceAccount: "sleep" }] })))],
    want: DENIED_NO_MATCH,
  },
  // --- source IPs ---
  {
    name: "sourceIps v4 CIDR containing the source",
    policies: [allow("a", one(m({ sourceIps: [cidr("10.1.0.0/16")] })))],
    want: allowedBy("a"),
  },
  {
    name: "sourceIps v4 CIDR not containing the source",
    policies: [allow("a", one(m({ sourceIps: [cidr("10.2.0.0/16")] })))],
    want: DENIED_NO_MATCH,
  },
  {
    name: "sourceIps /32 exact host",
    policies: [allow("a", one(m({ sourceIps: [cidr("10.1.2.3/32")] })))],
    want: allowedBy("a"),
  },
  {
    name: "sourceIps v4 CIDR matches an IPv4-mapped source ::ffff:a.b.c.d",
    policies: [allow("a", one(m({ sourceIps: [cidr("10.1.0.0/16")] })))],
    facts: { sourceAddress: "::ffff:10.1.2.3" },
    want: allowedBy("a"),
  },
  {
    name: "sourceIps v6 CIDR containing the source",
    policies: [allow("a", one(m({ sourceIps: [cidr("fd00:1::/32")] })))],
    facts: { sourceAddress: "fd00:1:0:0::42" },
    want: allowedBy("a"),
  },
  {
    name: "sourceIps v6 CIDR not containing the source",
    policies: [allow("a", one(m({ sourceIps: [cidr("fd00:2::/32")] })))],
    facts: { sourceAddress: "fd00:1::42" },
    want: DENIED_NO_MATCH,
  },
  {
    name: "sourceIps v6 CIDR never matches a v4 source",
    policies: [allow("a", one(m({ sourceIps: [cidr("::/0")] })))],
    want: DENIED_NO_MATCH,
  },
  {
    name: "notSourceIps containing the source: a DENY on it does not fire",
    policies: [deny("d", one(m({ notSourceIps: [cidr("10.0.0.0/8")] })))],
    want: ALLOWED_NO_ALLOW,
  },
  {
    name: "notSourceIps not containing the source: the DENY fires",
    policies: [deny("d", one(m({ notSourceIps: [cidr("192.168.0.0/16")] })))],
    want: deniedBy("d"),
  },
  {
    name: "notSourceIps v4 excludes an IPv4-mapped source",
    policies: [deny("d", one(m({ notSourceIps: [cidr("10.0.0.0/8")] })))],
    facts: { sourceAddress: "::FFFF:10.1.2.3" },
    want: ALLOWED_NO_ALLOW,
  },
  // --- destination IPs and ports ---
  {
    name: "destinationIps CIDR",
    policies: [allow("a", one(m({ destinationIps: [cidr("10.9.0.0/24")] })))],
    want: allowedBy("a"),
  },
  {
    name: "notDestinationIps containing the destination: no match",
    policies: [allow("a", one(m({ notDestinationIps: [cidr("10.9.0.5/32")] })))],
    want: DENIED_NO_MATCH,
  },
  {
    name: "destinationPorts containing the port",
    policies: [allow("a", one(m({ destinationPorts: [80, 8080] })))],
    want: allowedBy("a"),
  },
  {
    name: "destinationPorts not containing the port",
    policies: [allow("a", one(m({ destinationPorts: [80, 443] })))],
    want: DENIED_NO_MATCH,
  },
  {
    name: "notDestinationPorts (localhost.yaml's deny-9999) allows other ports",
    policies: [allow("deny-9999", one(m({ notDestinationPorts: [9999] })))],
    want: allowedBy("deny-9999"),
  },
  {
    name: "notDestinationPorts (localhost.yaml's deny-9999) refuses 9999",
    policies: [allow("deny-9999", one(m({ notDestinationPorts: [9999] })))],
    facts: { destinationPort: 9999 },
    want: DENIED_NO_MATCH,
  },
  // --- structure: rules OR, clauses AND, matches OR, fields AND ---
  {
    name: "rules OR: the second rule matches",
    policies: [allow("a", [[[m({ destinationPorts: [1] })]], [[m({ destinationPorts: [8080] })]]])],
    want: allowedBy("a"),
  },
  {
    name: "clauses AND: one failing clause fails the rule",
    policies: [allow("a", [[[m({ principals: [suffix("/sa/sleep")] })], [m({ destinationPorts: [1] })]]])],
    want: DENIED_NO_MATCH,
  },
  {
    name: "clauses AND: every clause holds",
    policies: [allow("a", [[[m({ principals: [suffix("/sa/sleep")] })], [m({ destinationPorts: [8080] })]]])],
    want: allowedBy("a"),
  },
  {
    name: "matches OR within a clause",
    policies: [allow("a", one(m({ destinationPorts: [1] }), m({ namespaces: [exact("default")] })))],
    want: allowedBy("a"),
  },
  {
    name: "fields AND within a match: right principal, wrong port",
    policies: [allow("a", one(m({ principals: [suffix("/sa/sleep")], destinationPorts: [1] })))],
    want: DENIED_NO_MATCH,
  },
  {
    name: "an empty clause matches",
    policies: [allow("a", [[[]]])],
    want: allowedBy("a"),
  },
  {
    name: "an empty clause beside a holding clause: the rule matches",
    policies: [allow("a", [[[], [m({ destinationPorts: [8080] })]]])],
    want: allowedBy("a"),
  },
  {
    name: "a rule with no clauses matches (as ztunnel)",
    policies: [deny("d", [[]])],
    want: deniedBy("d"),
  },
  {
    name: "a policy with no rules never matches, but still counts as an ALLOW",
    policies: [allow("a", [])],
    want: DENIED_NO_MATCH,
  },
  {
    name: "an all-empty match never matches (ALLOW)",
    policies: [allow("a", one(EMPTY_MATCH))],
    want: DENIED_NO_MATCH,
  },
  {
    name: "an all-empty match never matches (DENY)",
    policies: [deny("d", one(EMPTY_MATCH))],
    want: ALLOWED_NO_ALLOW,
  },
  {
    name: "an all-empty match beside a holding match: the clause matches",
    policies: [allow("a", one(EMPTY_MATCH, m({ destinationPorts: [8080] })))],
    want: allowedBy("a"),
  },
  // --- dry run ---
  {
    name: "dry-run DENY that matches: still allowed, would deny",
    policies: [dryDeny("dry", one(m({ destinationPorts: [8080] })))],
    want: { ...ALLOWED_NO_ALLOW, dryRun: { wouldAllow: false, policy: "default/dry" } },
  },
  {
    name: "dry-run DENY that does not match: would allow",
    policies: [dryDeny("dry", one(m({ destinationPorts: [1] })))],
    want: { ...ALLOWED_NO_ALLOW, dryRun: { wouldAllow: true } },
  },
  {
    name: "a non-matching dry-run ALLOW does not count as an ALLOW: allowed, would deny",
    policies: [dryAllow("dry", one(m({ destinationPorts: [1] })))],
    want: { ...ALLOWED_NO_ALLOW, dryRun: { wouldAllow: false } },
  },
  {
    name: "a matching dry-run ALLOW: allowed (no enforced ALLOW), would allow by it",
    policies: [dryAllow("dry", one(m({ destinationPorts: [8080] })))],
    want: { ...ALLOWED_NO_ALLOW, dryRun: { wouldAllow: true, policy: "default/dry" } },
  },
  {
    name: "enforced ALLOW does not match, dry-run ALLOW does: denied, would allow",
    policies: [allow("a", one(m({ destinationPorts: [1] }))), dryAllow("dry", one(m({ destinationPorts: [8080] })))],
    want: { ...DENIED_NO_MATCH, dryRun: { wouldAllow: true, policy: "default/dry" } },
  },
  {
    name: "enforced DENY matches, dry-run ALLOW matches: denied, would still deny",
    policies: [deny("d", one(m({ destinationPorts: [8080] }))), dryAllow("dry", one(m({ destinationPorts: [8080] })))],
    want: { ...deniedBy("d"), dryRun: { wouldAllow: false, policy: "default/d" } },
  },
  {
    name: "enforced ALLOW matches, dry-run DENY matches: allowed, would deny",
    policies: [allow("a", one(m({ destinationPorts: [8080] }))), dryDeny("dry", one(m({ destinationPorts: [8080] })))],
    want: { ...allowedBy("a"), dryRun: { wouldAllow: false, policy: "default/dry" } },
  },
];

for (const row of authorizeRows) {
  test(`authorize: ${row.name}`, () => {
    expect(authorize(row.policies, facts(row.facts))).toEqual(row.want);
  });
}

test("authorize: no dryRun field when no dry-run policy applies", () => {
  const d = authorize([allow("a", one(m({ destinationPorts: [8080] })))], facts());
  expect(d.dryRun).toBeUndefined();
  expect("dryRun" in d).toBe(false);
});

test("authorize: the order of the policies does not change a DENY outcome", () => {
  const a = allow("a", one(m({ destinationPorts: [8080] })));
  const d = deny("d", one(m({ destinationPorts: [8080] })));
  expect(authorize([a, d], facts())).toEqual(deniedBy("d"));
  expect(authorize([d, a], facts())).toEqual(deniedBy("d"));
});

// --- policyMatches directly ---
test("policyMatches: matching is independent of the action and the dry-run flag", () => {
  const rules = one(m({ destinationPorts: [8080] }));
  for (const p of [allow("a", rules), deny("d", rules), dryAllow("x", rules), dryDeny("y", rules)]) {
    expect(policyMatches(p, facts())).toBe(true);
    expect(policyMatches(p, facts({ destinationPort: 1 }))).toBe(false);
  }
});

// --- stringMatches ---
const stringRows: { name: string; match: StringMatch; value: string; want: boolean }[] = [
  { name: "exact equal", match: exact("a/b"), value: "a/b", want: true },
  { name: "exact is case-sensitive", match: exact("a/b"), value: "A/b", want: false },
  { name: "exact is not a prefix", match: exact("a"), value: "ab", want: false },
  { name: "exact empty matches empty", match: exact(""), value: "", want: true },
  { name: "prefix", match: prefix("cluster.local/ns/"), value: "cluster.local/ns/x/sa/y", want: true },
  { name: "prefix not at the start", match: prefix("ns/"), value: "cluster.local/ns/x", want: false },
  { name: "suffix", match: suffix("/sa/y"), value: "cluster.local/ns/x/sa/y", want: true },
  { name: "suffix not at the end", match: suffix("/sa"), value: "cluster.local/ns/x/sa/y", want: false },
  { name: "presence with a value", match: PRESENCE, value: "x", want: true },
  { name: "presence with an empty value", match: PRESENCE, value: "", want: false },
];
for (const row of stringRows) {
  test(`stringMatches: ${row.name}`, () => {
    expect(stringMatches(row.match, row.value)).toBe(row.want);
  });
}

// --- inRange ---
const rangeRows: { name: string; address: string; range: string; want: boolean }[] = [
  { name: "v4 inside /8", address: "10.200.3.4", range: "10.0.0.0/8", want: true },
  { name: "v4 outside /8", address: "11.0.0.1", range: "10.0.0.0/8", want: false },
  { name: "v4 /32 same host", address: "127.0.0.1", range: "127.0.0.1/32", want: true },
  { name: "v4 /32 other host", address: "127.0.0.2", range: "127.0.0.1/32", want: false },
  { name: "v4 /0 matches any v4", address: "203.0.113.9", range: "0.0.0.0/0", want: true },
  { name: "v4 non-octet boundary /20 inside", address: "172.16.15.255", range: "172.16.0.0/20", want: true },
  { name: "v4 non-octet boundary /20 outside", address: "172.16.16.0", range: "172.16.0.0/20", want: false },
  { name: "v4-mapped address in v4 range", address: "::ffff:192.168.1.10", range: "192.168.0.0/16", want: true },
  { name: "v4-mapped address outside v4 range", address: "::ffff:192.169.1.10", range: "192.168.0.0/16", want: false },
  { name: "v6 /128 loopback", address: "::1", range: "::1/128", want: true },
  { name: "v6 /64 inside", address: "2001:db8:0:1:ffff::1", range: "2001:db8:0:1::/64", want: true },
  { name: "v6 /64 outside", address: "2001:db8:0:2::1", range: "2001:db8:0:1::/64", want: false },
  { name: "v6 uncompressed vs compressed range", address: "2001:0db8:0000:0000:0000:0000:0000:0001", range: "2001:db8::/32", want: true },
  { name: "v6 /0 matches any v6", address: "fe80::1", range: "::/0", want: true },
  { name: "v6 address never in a v4 range", address: "fd00::1", range: "0.0.0.0/0", want: false },
  { name: "v4 address never in a v6 range", address: "10.0.0.1", range: "::/0", want: false },
  { name: "not an address", address: "example.com", range: "0.0.0.0/0", want: false },
  { name: "v6 range with an embedded v4 tail", address: "64:ff9b::10.0.0.1", range: "64:ff9b::/96", want: true },
  // Full-form IPv6 with an embedded IPv4 tail (no "::"): the tail must count as two groups.
  { name: "full-form v6 with an embedded v4 tail", address: "0:0:0:0:0:ffff:10.1.2.3", range: "::ffff:0:0/96", want: true },
];
for (const row of rangeRows) {
  test(`inRange: ${row.name}`, () => {
    expect(inRange(row.address, cidr(row.range))).toBe(row.want);
  });
}
