// Table tests for ztunnel's local config format (LOCAL_XDS_PATH): istio/ztunnel's
// own example must load unchanged, and each form and default a valid file may use
// loads as ztunnel reads it. Invalid files: local_config_invalid_test.ts.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EMPTY_MATCH, type DataPlaneSnapshot, type Workload } from "../xds/resources.ts";
import { buildRequest } from "./outbound_request.ts";
import { authorize } from "./rbac.ts";
import { ProxyState } from "./state.ts";
import { spiffeId } from "../identity/mod.ts";
import { parse, POLICY_HEAD } from "./_local_config_fixtures.ts";

// --- istio/ztunnel examples/localhost.yaml, unchanged ---
const LOCALHOST_YAML = readFileSync(join(import.meta.dir, "../tests/fixtures/ztunnel_localhost.yaml"), "utf8");

test("localhost.yaml: the fixture is ztunnel's example, unchanged", () => {
  expect(LOCALHOST_YAML).toStartWith("# This shows an example local config for ztunnel that adds a workload for localhost.\n");
  expect(LOCALHOST_YAML).toContain("    - - - notDestinationPorts:\n          - 9999\n");
  expect(LOCALHOST_YAML).toContain("    - remote/127.10.0.2\n");
});

test("localhost.yaml: loads into the expected snapshot", () => {
  const localWorkload = (name: string, ip: string, tunnelProtocol: "HBONE" | "NONE"): Workload => ({
    uid: `cluster1//v1/Pod/default/${name}`,
    name,
    namespace: "default",
    serviceAccount: "default",
    trustDomain: "cluster.local",
    addresses: [ip],
    network: "",
    node: "local",
    tunnelProtocol,
    networkMode: "STANDARD",
    status: "HEALTHY",
    waypoint: undefined,
    canonicalName: "",
    canonicalRevision: "",
    workloadName: "",
    workloadType: "",
    clusterId: "Kubernetes",
    services: { "default/example.com": { 80: 8080 }, "default/example2.com": { 80: 8080 } },
    authorizationPolicies: [],
  });
  const want: DataPlaneSnapshot = {
    workloads: [localWorkload("local", "127.0.0.1", "HBONE"), localWorkload("local-tcp", "127.0.0.2", "NONE")],
    services: [
      {
        name: "local",
        namespace: "default",
        hostname: "example.com",
        vips: [{ network: "", address: "127.10.0.1" }],
        ports: { 80: 8080 },
        subjectAltNames: ["spiffe://cluster.local/ns/default/sa/local"],
        waypoint: undefined,
      },
      {
        name: "remote",
        namespace: "default",
        hostname: "example2.com",
        vips: [{ network: "remote", address: "127.10.0.2" }],
        ports: { 80: 8080 },
        subjectAltNames: [],
        waypoint: undefined,
      },
    ],
    policies: [
      {
        name: "deny-9999",
        namespace: "default",
        scope: "NAMESPACE",
        action: "ALLOW",
        rules: [[[{ ...EMPTY_MATCH, notDestinationPorts: [9999] }]]],
        dryRun: false,
      },
    ],
  };
  expect(parse(LOCALHOST_YAML)).toEqual(want);
});

test("localhost.yaml: port map keys are numbers", () => {
  const s = parse(LOCALHOST_YAML);
  expect(Object.keys(s.services[0]!.ports)).toEqual(["80"]);
  expect(s.services[0]!.ports[80]).toBe(8080);
  expect(s.workloads[0]!.services["default/example.com"]![80]).toBe(8080);
});

test("localhost.yaml: behaves as in ztunnel once loaded", () => {
  const state = new ProxyState(parse(LOCALHOST_YAML));
  const local = state.findWorkload("127.0.0.1")!;
  const localTcp = state.findWorkload("127.0.0.2")!;
  expect(local.name).toBe("local");
  // Service example.com by VIP: endpoints are both workloads.
  expect(state.endpointsOf(state.findServiceByVip("127.10.0.1")!).map((e) => e.workload.name)).toEqual(["local", "local-tcp"]);
  // example2.com's VIP is on network "remote": not reachable by VIP from the default network.
  expect(state.findServiceByVip("127.10.0.2")).toBeUndefined();
  expect(state.findServiceByVip("127.10.0.2", "remote")?.hostname).toBe("example2.com");
  // deny-9999 applies to workloads in default: everything but 9999.
  const policies = state.policiesFor(local);
  expect(policies.map((p) => p.name)).toEqual(["deny-9999"]);
  const from = { sourceIdentity: spiffeId("cluster.local", "default", "default"), sourceAddress: "127.0.0.2", destinationAddress: "127.0.0.1" };
  expect(authorize(policies, { ...from, destinationPort: 8080 }).allowed).toBe(true);
  expect(authorize(policies, { ...from, destinationPort: 9999 }).allowed).toBe(false);
  // Outbound from "local" on node "local" to example.com:80.
  const req = (choose: number) =>
    buildRequest({ state, node: "local", source: localTcp, target: { host: "127.10.0.1", port: 80 }, allowPassthrough: false, destinationRules: { reservedPorts: new Set(), allowLinkLocal: false }, choose: () => choose });
  expect(req(0)).toMatchObject({ protocol: "local", target: { address: "127.0.0.1", port: 8080 } });
  expect(req(1)).toMatchObject({ protocol: "passthrough", target: { address: "127.0.0.2", port: 8080 } });
});

// --- valid files: forms and defaults ---

test("string matches: YAML tag form (!Exact foo), as serde_yaml writes it", () => {
  const s = parse(POLICY_HEAD + `  - - - principals: [!Exact cluster.local/ns/a/sa/b, !Prefix cluster.local/ns/, !Suffix /sa/b]
        namespaces: [!Exact foo, !Presence]
`);
  const match = s.policies[0]!.rules[0]![0]![0]!;
  expect(match.principals).toEqual([{ exact: "cluster.local/ns/a/sa/b" }, { prefix: "cluster.local/ns/" }, { suffix: "/sa/b" }]);
  expect(match.namespaces).toEqual([{ exact: "foo" }, { presence: true }]);
});

test("string matches: mapping form ({Exact: foo}, {Presence: []})", () => {
  const s = parse(POLICY_HEAD + `  - - - principals: [{Exact: a}, {Prefix: b}, {Suffix: c}, {Presence: []}]
`);
  expect(s.policies[0]!.rules[0]![0]![0]!.principals).toEqual([{ exact: "a" }, { prefix: "b" }, { suffix: "c" }, { presence: true }]);
});

test("string matches: YAML tag form !Presence [] (serde_yaml's spelling of a unit variant)", () => {
  const s = parse(POLICY_HEAD + `  - - - principals: [!Presence []]
`);
  expect(s.policies[0]!.rules[0]![0]![0]!.principals).toEqual([{ presence: true }]);
});

test("policy: every match field, dryRun, and the JSON spelling of the same file", () => {
  const yaml = POLICY_HEAD + `  - - - namespaces: [{Exact: a}]
        notNamespaces: [{Exact: b}]
        serviceAccounts: [{namespace: a, serviceAccount: s}]
        notServiceAccounts: [{namespace: b, serviceAccount: t}]
        principals: [{Prefix: td/}]
        notPrincipals: [{Suffix: /sa/x}]
        sourceIps: ["10.0.0.0/8", "fd00::/8"]
        notSourceIps: ["10.1.0.0/16"]
        destinationIps: ["127.0.0.1/32"]
        notDestinationIps: ["::1/128"]
        destinationPorts: [80, 443]
        notDestinationPorts: [0]
  dryRun: true
`;
  const s = parse(yaml);
  expect(s.policies[0]).toEqual({
    name: "p",
    namespace: "default",
    scope: "NAMESPACE",
    action: "ALLOW",
    dryRun: true,
    rules: [[[{
      namespaces: [{ exact: "a" }],
      notNamespaces: [{ exact: "b" }],
      serviceAccounts: [{ namespace: "a", serviceAccount: "s" }],
      notServiceAccounts: [{ namespace: "b", serviceAccount: "t" }],
      principals: [{ prefix: "td/" }],
      notPrincipals: [{ suffix: "/sa/x" }],
      sourceIps: [{ address: "10.0.0.0", length: 8 }, { address: "fd00::", length: 8 }],
      notSourceIps: [{ address: "10.1.0.0", length: 16 }],
      destinationIps: [{ address: "127.0.0.1", length: 32 }],
      notDestinationIps: [{ address: "::1", length: 128 }],
      destinationPorts: [80, 443],
      notDestinationPorts: [0],
    }]]],
  });
  const json = JSON.stringify({
    policies: [{
      name: "p",
      namespace: "default",
      scope: "Namespace",
      action: "Allow",
      dryRun: true,
      rules: [[[{
        namespaces: [{ Exact: "a" }],
        notNamespaces: [{ Exact: "b" }],
        serviceAccounts: [{ namespace: "a", serviceAccount: "s" }],
        notServiceAccounts: [{ namespace: "b", serviceAccount: "t" }],
        principals: [{ Prefix: "td/" }],
        notPrincipals: [{ Suffix: "/sa/x" }],
        sourceIps: ["10.0.0.0/8", "fd00::/8"],
        notSourceIps: ["10.1.0.0/16"],
        destinationIps: ["127.0.0.1/32"],
        notDestinationIps: ["::1/128"],
        destinationPorts: [80, 443],
        notDestinationPorts: [0],
      }]]],
    }],
  });
  expect(parse(json)).toEqual(s);
});

test("policy scopes and actions map to the resource spellings", () => {
  const s = parse(`policies:
- {name: g, namespace: istio-system, scope: Global, action: Deny, rules: []}
- {name: n, namespace: default, scope: Namespace, action: Allow, rules: [[[]]]}
- {name: w, namespace: default, scope: WorkloadSelector, action: Allow, rules: []}
`);
  expect(s.policies.map((p) => [p.name, p.scope, p.action, p.dryRun])).toEqual([
    ["g", "GLOBAL", "DENY", false],
    ["n", "NAMESPACE", "ALLOW", false],
    ["w", "WORKLOAD_SELECTOR", "ALLOW", false],
  ]);
  expect(s.policies[1]!.rules).toEqual([[[]]]);
});

test("workload defaults: serviceAccount, trust domain, uid, cluster, protocol, status", () => {
  const s = parse(`workloads:
- name: bare
  namespace: apps
  workloadIps: ["10.0.0.1"]
- name: full
  namespace: apps
  uid: my-uid
  serviceAccount: sa
  trustDomain: td.example
  clusterId: c2
  workloadIps: ["10.0.0.2", "fd00::2"]
  protocol: HBONE
  status: Unhealthy
  node: n1
  network: net1
  canonicalName: full-app
  canonicalRevision: v2
  workloadName: full-deploy
  workloadType: deployment
  authorizationPolicies: ["apps/p"]
`);
  expect(s.workloads[0]).toMatchObject({
    uid: "Kubernetes//v1/Pod/apps/bare",
    serviceAccount: "default",
    trustDomain: "cluster.local",
    clusterId: "Kubernetes",
    tunnelProtocol: "NONE",
    status: "HEALTHY",
    network: "",
    node: "",
    services: {},
    authorizationPolicies: [],
  });
  expect(s.workloads[1]).toMatchObject({
    uid: "my-uid",
    serviceAccount: "sa",
    trustDomain: "td.example",
    clusterId: "c2",
    addresses: ["10.0.0.2", "fd00::2"],
    tunnelProtocol: "HBONE",
    status: "UNHEALTHY",
    node: "n1",
    network: "net1",
    canonicalName: "full-app",
    canonicalRevision: "v2",
    workloadName: "full-deploy",
    workloadType: "deployment",
    authorizationPolicies: ["apps/p"],
  });
});

test("waypoint destinations: network/ip is an address, namespace/hostname a hostname", () => {
  const s = parse(`workloads:
- {name: a, namespace: default, workloadIps: ["10.0.0.1"], waypoint: {destination: "/10.0.0.9", hboneMtlsPort: 15008}}
- {name: b, namespace: default, workloadIps: ["10.0.0.2"], waypoint: {destination: "net1/fd00::9", hboneMtlsPort: 15009}}
services:
- name: s
  namespace: default
  hostname: s.default.svc.cluster.local
  vips: []
  ports: {}
  waypoint: {destination: "default/waypoint.default.svc.cluster.local", hboneMtlsPort: 15008}
`);
  expect(s.workloads[0]!.waypoint).toEqual({ destination: { kind: "address", address: { network: "", address: "10.0.0.9" } }, hboneMtlsPort: 15008 });
  expect(s.workloads[1]!.waypoint).toEqual({ destination: { kind: "address", address: { network: "net1", address: "fd00::9" } }, hboneMtlsPort: 15009 });
  expect(s.services[0]!.waypoint).toEqual({
    destination: { kind: "hostname", namespace: "default", hostname: "waypoint.default.svc.cluster.local" },
    hboneMtlsPort: 15008,
  });
});

test("explicit service endpoints attach the service to the named workload", () => {
  const s = parse(`workloads:
- {uid: w1, name: a, namespace: default, workloadIps: ["10.0.0.1"]}
services:
- name: s
  namespace: default
  hostname: s.default.svc.cluster.local
  vips: ["/10.96.0.1"]
  ports: {80: 8080}
  endpoints:
    w1: {workloadUid: w1, port: {80: 9090}, status: Healthy}
`);
  expect(s.workloads[0]!.services).toEqual({ "default/s.default.svc.cluster.local": { 80: 9090 } });
});

const emptyRows: { name: string; text: string }[] = [
  { name: "an empty file", text: "" },
  { name: "comments only", text: "# nothing here\n" },
  { name: "empty lists", text: "workloads: []\nservices: []\npolicies: []\n" },
  { name: "null lists", text: "workloads:\nservices:\npolicies:\n" },
  { name: "empty JSON object", text: "{}" },
];
for (const row of emptyRows) {
  test(`empty config: ${row.name}`, () => {
    expect(parse(row.text)).toEqual({ workloads: [], services: [], policies: [] });
  });
}

test("the same IP on two networks is not a conflict", () => {
  const s = parse(`workloads:
- {name: a, namespace: default, workloadIps: ["10.0.0.1"]}
- {name: b, namespace: default, workloadIps: ["10.0.0.1"], network: net2}
services:
- {name: s, namespace: default, hostname: s.example, vips: ["net3/10.0.0.1"], ports: {}}
`);
  expect(s.workloads.map((w) => `${w.network}/${w.addresses[0]}`)).toEqual(["/10.0.0.1", "net2/10.0.0.1"]);
});

test("HostNetwork workloads may share an IP (ztunnel does not index them by address)", () => {
  const s = parse(`workloads:
- {name: a, namespace: default, workloadIps: ["10.0.0.1"], networkMode: HostNetwork, node: n1}
- {name: b, namespace: default, workloadIps: ["10.0.0.1"], networkMode: HostNetwork, node: n1}
`);
  expect(s.workloads.map((w) => w.name)).toEqual(["a", "b"]);
});
