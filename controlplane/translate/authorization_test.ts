// Table tests for AuthorizationPolicy → L4 Authorization (istiod: ambient
// authorization.go and its tests; MESH_REFERENCE "L4 AuthorizationPolicy").
import { expect, test } from "bun:test";
import type { KubeObject } from "../../config/objects.ts";
import { type Authorization, type AuthorizationMatch, EMPTY_MATCH } from "../../xds/resources.ts";
import { policySelects, translateAuthorizationPolicy } from "./authorization.ts";

const m = (over: Partial<AuthorizationMatch>): AuthorizationMatch => ({ ...EMPTY_MATCH, ...over });
const P = "cluster.local/ns/default/sa/sleep";

function ap(spec: unknown, meta: { namespace?: string; annotations?: Record<string, string>; apiVersion?: string } = {}): KubeObject {
  return {
    apiVersion: meta.apiVersion ?? "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: "p", namespace: meta.namespace ?? "default", generation: 3, ...(meta.annotations ? { annotations: meta.annotations } : {}) },
    spec,
  };
}
/** A one-rule ALLOW policy whose rule is `rule`. */
const allowRule = (rule: unknown) => ap({ rules: [rule] });
const denyRule = (...rules: unknown[]) => ap({ action: "DENY", rules });

interface Row {
  readonly name: string;
  readonly policy: KubeObject;
  readonly rootNamespace?: string;
  /** Expected fields of the Authorization; `null` when nothing is sent to ztunnel. */
  readonly want: Partial<Authorization> | null;
  /** Each must match one warning; no other warnings. */
  readonly warnings?: readonly RegExp[];
  /** Expected status and reason; `null` for no condition. Default True/Accepted. */
  readonly status?: { status: string; reason: string } | null;
}

const UNSUPPORTED = { status: "True", reason: "UnsupportedValue" };
const L7 = (fields: string) => new RegExp(`L7 fields \\(found: ${fields.replace(/[[\]]/g, "\\$&")}\\).*waypoint`);

const rows: Row[] = [
  // Source fields and wildcard forms.
  { name: "principal exact", policy: allowRule({ from: [{ source: { principals: [P] } }] }), want: { rules: [[[m({ principals: [{ exact: P }] })]]] } },
  { name: "principal * is presence", policy: allowRule({ from: [{ source: { principals: ["*"] } }] }), want: { rules: [[[m({ principals: [{ presence: true }] })]]] } },
  { name: "principal *x is suffix", policy: allowRule({ from: [{ source: { principals: ["*/sa/sleep"] } }] }), want: { rules: [[[m({ principals: [{ suffix: "/sa/sleep" }] })]]] } },
  { name: "principal x* is prefix", policy: allowRule({ from: [{ source: { principals: ["cluster.local/ns/default/*"] } }] }), want: { rules: [[[m({ principals: [{ prefix: "cluster.local/ns/default/" }] })]]] } },
  { name: "notPrincipals", policy: allowRule({ from: [{ source: { notPrincipals: [P, "*"] } }] }), want: { rules: [[[m({ notPrincipals: [{ exact: P }, { presence: true }] })]]] } },
  {
    name: "namespaces and notNamespaces with wildcards",
    policy: allowRule({ from: [{ source: { namespaces: ["prod-*", "*-test"], notNamespaces: ["kube-system"] } }] }),
    want: { rules: [[[m({ namespaces: [{ prefix: "prod-" }, { suffix: "-test" }], notNamespaces: [{ exact: "kube-system" }] })]]] },
  },
  {
    name: "serviceAccounts ns/sa and bare sa (policy namespace)",
    policy: ap({ rules: [{ from: [{ source: { serviceAccounts: ["other/client", "sleep"], notServiceAccounts: ["bad"] } }] }] }, { namespace: "shop" }),
    want: {
      rules: [[[m({
        serviceAccounts: [{ namespace: "other", serviceAccount: "client" }, { namespace: "shop", serviceAccount: "sleep" }],
        notServiceAccounts: [{ namespace: "shop", serviceAccount: "bad" }],
      })]]],
    },
  },
  {
    name: "ipBlocks: CIDR, bare IPv4 /32, bare IPv6 /128; notIpBlocks; garbage skipped",
    policy: allowRule({ from: [{ source: { ipBlocks: ["10.0.0.0/8", "192.168.1.7", "fd00::1", "nope"], notIpBlocks: ["10.9.0.0/16"] } }] }),
    want: {
      rules: [[[m({
        sourceIps: [{ address: "10.0.0.0", length: 8 }, { address: "192.168.1.7", length: 32 }, { address: "fd00::1", length: 128 }],
        notSourceIps: [{ address: "10.9.0.0", length: 16 }],
      })]]],
    },
  },
  {
    name: "operation ports and notPorts (invalid skipped)",
    policy: allowRule({ to: [{ operation: { ports: ["8080", "x", "70000"], notPorts: ["9090"] } }] }),
    want: { rules: [[[m({ destinationPorts: [8080], notDestinationPorts: [9090] })]]] },
  },
  // when keys.
  {
    name: "when source.ip values and notValues",
    policy: allowRule({ when: [{ key: "source.ip", values: ["10.1.0.0/16"], notValues: ["10.1.2.3"] }] }),
    want: { rules: [[[m({ sourceIps: [{ address: "10.1.0.0", length: 16 }], notSourceIps: [{ address: "10.1.2.3", length: 32 }] })]]] },
  },
  { name: "when source.namespace", policy: allowRule({ when: [{ key: "source.namespace", values: ["default"], notValues: ["x*"] }] }), want: { rules: [[[m({ namespaces: [{ exact: "default" }], notNamespaces: [{ prefix: "x" }] })]]] } },
  { name: "when source.principal", policy: allowRule({ when: [{ key: "source.principal", values: ["*"] }] }), want: { rules: [[[m({ principals: [{ presence: true }] })]]] } },
  { name: "when destination.ip", policy: allowRule({ when: [{ key: "destination.ip", values: ["10.9.0.5"], notValues: ["10.9.0.0/24"] }] }), want: { rules: [[[m({ destinationIps: [{ address: "10.9.0.5", length: 32 }], notDestinationIps: [{ address: "10.9.0.0", length: 24 }] })]]] } },
  { name: "when destination.port", policy: allowRule({ when: [{ key: "destination.port", values: ["80"], notValues: ["81"] }] }), want: { rules: [[[m({ destinationPorts: [80], notDestinationPorts: [81] })]]] } },
  // Structure: OR and AND.
  {
    name: "multiple from entries are ORed: one clause, one match each",
    policy: allowRule({ from: [{ source: { principals: [P] } }, { source: { namespaces: ["other"] } }] }),
    want: { rules: [[[m({ principals: [{ exact: P }] }), m({ namespaces: [{ exact: "other" }] })]]] },
  },
  {
    name: "multiple to entries are ORed: one clause",
    policy: allowRule({ to: [{ operation: { ports: ["80"] } }, { operation: { ports: ["443"] } }] }),
    want: { rules: [[[m({ destinationPorts: [80] }), m({ destinationPorts: [443] })]]] },
  },
  {
    name: "from + to + when entries are ANDed: a clause each",
    policy: allowRule({
      from: [{ source: { principals: [P] } }],
      to: [{ operation: { ports: ["8080"] } }],
      when: [{ key: "source.ip", values: ["10.0.0.0/8"] }, { key: "destination.port", values: ["8080"] }],
    }),
    want: {
      rules: [[
        [m({ principals: [{ exact: P }] })],
        [m({ destinationPorts: [8080] })],
        [m({ sourceIps: [{ address: "10.0.0.0", length: 8 }] })],
        [m({ destinationPorts: [8080] })],
      ]],
    },
  },
  { name: "two rules are ORed", policy: ap({ rules: [{ from: [{ source: { principals: [P] } }] }, { to: [{ operation: { ports: ["80"] } }] }] }), want: { rules: [[[m({ principals: [{ exact: P }] })]], [[m({ destinationPorts: [80] })]]] } },
  { name: "rules: [{}] is one rule with no clause (matches everything)", policy: ap({ rules: [{}] }), want: { rules: [[]], action: "ALLOW" } },
  { name: "spec {} with ALLOW: rules [] (allow nothing)", policy: ap({}), want: { rules: [], action: "ALLOW" } },
  { name: "DENY with no rules: rules [] (never matches)", policy: ap({ action: "DENY" }), want: { rules: [], action: "DENY" } },
  { name: "from entry with an empty source never matches: rule left out", policy: allowRule({ from: [{ source: {} }] }), want: { rules: [] } },
  // Scope.
  { name: "no selector in a namespace: NAMESPACE", policy: ap({}), want: { scope: "NAMESPACE", action: "ALLOW", dryRun: false } },
  { name: "root namespace without selector: GLOBAL", policy: ap({}, { namespace: "istio-system" }), want: { scope: "GLOBAL", namespace: "istio-system" } },
  { name: "root namespace with selector: WORKLOAD_SELECTOR", policy: ap({ selector: { matchLabels: { app: "a" } } }, { namespace: "istio-system" }), want: { scope: "WORKLOAD_SELECTOR" } },
  { name: "namespace with selector: WORKLOAD_SELECTOR", policy: ap({ selector: { matchLabels: { app: "a" } } }), want: { scope: "WORKLOAD_SELECTOR" } },
  { name: "empty selector is no selector", policy: ap({ selector: { matchLabels: {} } }), want: { scope: "NAMESPACE" } },
  { name: "root namespace from options", policy: ap({}, { namespace: "mesh-root" }), rootNamespace: "mesh-root", want: { scope: "GLOBAL" } },
  { name: "istio-system is not root when another root is set", policy: ap({}, { namespace: "istio-system" }), rootNamespace: "mesh-root", want: { scope: "NAMESPACE" } },
  { name: "v1beta1 is read the same", policy: ap({ action: "DENY", rules: [{}] }, { apiVersion: "security.istio.io/v1beta1" }), want: { action: "DENY", rules: [[]] } },
  // Dry run.
  { name: "dry-run true", policy: ap({}, { annotations: { "istio.io/dry-run": "true" } }), want: { dryRun: true } },
  { name: "dry-run false", policy: ap({}, { annotations: { "istio.io/dry-run": "false" } }), want: { dryRun: false } },
  {
    name: "dry-run not a boolean: enforced, with a warning",
    policy: ap({}, { annotations: { "istio.io/dry-run": "maybe" } }),
    want: { dryRun: false }, warnings: [/dry-run.*"maybe" is not a boolean/], status: UNSUPPORTED,
  },
  // Not for ztunnel.
  { name: "AUDIT is not supported at L4", policy: ap({ action: "AUDIT", rules: [{}] }), want: null, warnings: [/AUDIT is not supported at L4/], status: { status: "False", reason: "UnsupportedValue" } },
  { name: "CUSTOM is not supported at L4", policy: ap({ action: "CUSTOM", provider: { name: "ext" }, rules: [{}] }), want: null, warnings: [/CUSTOM is not supported at L4/], status: { status: "False", reason: "UnsupportedValue" } },
  { name: "targetRefs: left to the waypoint, silently", policy: ap({ targetRefs: [{ kind: "Service", group: "", name: "reviews" }], rules: [{ to: [{ operation: { methods: ["GET"] } }] }] }), want: null, status: null },
  { name: "targetRef (singular): left to the waypoint", policy: ap({ targetRef: { kind: "Gateway", group: "gateway.networking.k8s.io", name: "waypoint" } }), want: null, status: null },
  // L7 in ALLOW: the whole rule goes.
  {
    name: "ALLOW with methods: rule dropped, policy kept with rules []",
    policy: allowRule({ from: [{ source: { principals: [P] } }], to: [{ operation: { methods: ["GET"] } }] }),
    want: { rules: [], action: "ALLOW" }, warnings: [L7("methods")], status: UNSUPPORTED,
  },
  {
    name: "ALLOW: only the L7 rule is dropped",
    policy: ap({ rules: [{ from: [{ source: { namespaces: ["a"] } }] }, { to: [{ operation: { paths: ["/x"], ports: ["80"] } }] }] }),
    want: { rules: [[[m({ namespaces: [{ exact: "a" }] })]]] }, warnings: [/paths.*allows less than written/], status: UNSUPPORTED,
  },
  {
    name: "ALLOW with an L7 when key: rule dropped, key named",
    policy: allowRule({ from: [{ source: { principals: [P] } }], when: [{ key: "request.auth.claims[iss]", values: ["x"] }] }),
    want: { rules: [] }, warnings: [L7("request.auth.claims[iss]")], status: UNSUPPORTED,
  },
  {
    name: "ALLOW with requestPrincipals beside principals: rule dropped",
    policy: allowRule({ from: [{ source: { principals: [P], requestPrincipals: ["iss/sub"] } }] }),
    want: { rules: [] }, warnings: [L7("requestPrincipals")], status: UNSUPPORTED,
  },
  {
    name: "every L7 source and operation field is named",
    policy: allowRule({
      from: [{ source: { notRequestPrincipals: ["a"], remoteIpBlocks: ["1.1.1.1"], notRemoteIpBlocks: ["2.2.2.2"] } }],
      to: [{ operation: { hosts: ["h"], notHosts: ["h"], notMethods: ["PUT"], notPaths: ["/p"] } }],
    }),
    want: { rules: [] }, warnings: [L7("hosts, notHosts, notMethods, notPaths, notRemoteIpBlocks, notRequestPrincipals, remoteIpBlocks")], status: UNSUPPORTED,
  },
  // L7 in DENY: removed clause by clause.
  {
    name: "DENY: L7 removed from a to entry, its ports kept",
    policy: denyRule({ to: [{ operation: { ports: ["8080"], methods: ["POST"] } }] }),
    want: { rules: [[[m({ destinationPorts: [8080] })]]], action: "DENY" }, warnings: [/methods.*denies more than written/], status: UNSUPPORTED,
  },
  {
    name: "DENY: L7-only from entry removed, the other entry kept",
    policy: denyRule({ from: [{ source: { principals: [P] } }, { source: { requestPrincipals: ["*"] } }] }),
    want: { rules: [[[m({ principals: [{ exact: P }] })]]] }, warnings: [L7("requestPrincipals")], status: UNSUPPORTED,
  },
  {
    name: "DENY: remoteIpBlocks removed, ipBlocks kept in the same source",
    policy: denyRule({ from: [{ source: { ipBlocks: ["10.0.0.0/8"], remoteIpBlocks: ["1.2.3.4"] } }] }),
    want: { rules: [[[m({ sourceIps: [{ address: "10.0.0.0", length: 8 }] })]]] }, warnings: [L7("remoteIpBlocks")], status: UNSUPPORTED,
  },
  {
    name: "DENY: a to clause left with no L4 condition: the rule never fires",
    policy: denyRule({ from: [{ source: { principals: [P] } }], to: [{ operation: { methods: ["GET"] } }] }),
    want: { rules: [], action: "DENY" }, warnings: [/methods.*no effect at ztunnel/], status: UNSUPPORTED,
  },
  {
    name: "DENY: an L7 when entry makes its rule never fire",
    policy: denyRule({ from: [{ source: { namespaces: ["x"] } }], when: [{ key: "request.headers[x-user]", values: ["a"] }] }),
    want: { rules: [] }, warnings: [L7("request.headers[x-user]")], status: UNSUPPORTED,
  },
  {
    name: "DENY: the L4 rule is kept, the L7-only rule dropped",
    policy: denyRule({ to: [{ operation: { ports: ["22"] } }] }, { to: [{ operation: { paths: ["/admin"] } }] }),
    want: { rules: [[[m({ destinationPorts: [22] })]]] }, warnings: [/paths.*denies more than written/], status: UNSUPPORTED,
  },
];

for (const row of rows) {
  test(`authorization: ${row.name}`, () => {
    const got = translateAuthorizationPolicy(row.policy, row.rootNamespace ? { rootNamespace: row.rootNamespace } : {});
    if (row.want === null) expect(got.authorization).toBeUndefined();
    else expect(got.authorization).toMatchObject({ name: "p", namespace: row.policy.metadata.namespace!, ...row.want });
    const patterns = row.warnings ?? [];
    expect(got.warnings.length).toBe(patterns.length);
    for (const p of patterns) expect(got.warnings.some((w) => p.test(w))).toBe(true);
    if (row.status === null) expect(got.status).toBeUndefined();
    else {
      const want = row.status ?? { status: "True", reason: "Accepted" };
      expect(got.status).toMatchObject({ type: "Accepted", ...want, observedGeneration: 3 });
      for (const w of got.warnings) expect(got.status!.message).toContain(w);
    }
  });
}

test("authorization: the table has at least 30 rows", () => expect(rows.length).toBeGreaterThanOrEqual(30));

interface SelectRow { name: string; policyNamespace: string; workloadNamespace: string; selector?: Record<string, string>; want: boolean }
const selectRows: SelectRow[] = [
  { name: "same namespace, labels match", policyNamespace: "a", workloadNamespace: "a", selector: { app: "x" }, want: true },
  { name: "other namespace", policyNamespace: "a", workloadNamespace: "b", selector: { app: "x" }, want: false },
  { name: "root namespace selects in every namespace", policyNamespace: "istio-system", workloadNamespace: "b", selector: { app: "x" }, want: true },
  { name: "labels differ", policyNamespace: "a", workloadNamespace: "a", selector: { app: "y" }, want: false },
  { name: "no selector: not a selector policy", policyNamespace: "a", workloadNamespace: "a", want: false },
];
for (const r of selectRows) {
  test(`policySelects: ${r.name}`, () => {
    const p = ap(r.selector ? { selector: { matchLabels: r.selector } } : {}, { namespace: r.policyNamespace });
    expect(policySelects(p, "istio-system", r.workloadNamespace, { app: "x", version: "v1" })).toBe(r.want);
  });
}
