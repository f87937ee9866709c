// Table tests for ztunnel's local config format (LOCAL_XDS_PATH): istio/ztunnel's
// own example must load unchanged, and every invalid file must be refused with
// problems naming the file, the object and the field.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type ConfigProblem, ConfigError } from "../config/mod.ts";
import { EMPTY_MATCH, type DataPlaneSnapshot, type Workload } from "../xds/resources.ts";
import { parseLocalConfig } from "./local_config.ts";
import { buildRequest } from "./outbound_request.ts";
import { authorize } from "./rbac.ts";
import { ProxyState } from "./state.ts";
import { spiffeId } from "../identity/mod.ts";

const FILE = "ztunnel.yaml";
const DEFAULTS = { trustDomain: "cluster.local" };
const parse = (text: string) => parseLocalConfig(text, FILE, DEFAULTS);

/** The problems of a file that must be refused. */
function problemsOf(text: string): readonly ConfigProblem[] {
  let error: unknown;
  try {
    parse(text);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).problems;
}

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
    buildRequest({ state, node: "local", source: localTcp, target: { host: "127.10.0.1", port: 80 }, allowPassthrough: false, choose: () => choose });
  expect(req(0)).toMatchObject({ protocol: "local", target: { address: "127.0.0.1", port: 8080 } });
  expect(req(1)).toMatchObject({ protocol: "passthrough", target: { address: "127.0.0.2", port: 8080 } });
});

// --- valid files: forms and defaults ---
const POLICY_HEAD = `policies:
- name: p
  namespace: default
  scope: Namespace
  action: Allow
  rules:
`;

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

// --- invalid files ---
const WL = (extra: string) => `workloads:
- name: x
  namespace: default
  workloadIps: ["10.0.0.1"]
${extra}`;
const SVC = (extra: string, vips = `["/10.96.0.1"]`) => `services:
- name: s
  namespace: default
  hostname: s.default.svc.cluster.local
  vips: ${vips}
${extra}`;
const RULE = (match: string) => POLICY_HEAD + `  - - - ${match}\n`;

interface WantProblem {
  readonly object?: string;
  readonly field: string;
  readonly message: RegExp;
}
interface InvalidRow {
  readonly name: string;
  readonly text: string;
  readonly want: readonly WantProblem[];
}

const M0 = "policies[0].rules[0][0][0]";
const P = "Authorization default/p";

const invalidRows: InvalidRow[] = [
  { name: "YAML syntax error", text: "workloads:\n- name: x\n  namespace: [default\n", want: [{ field: "", message: /^YAML: / }] },
  { name: "YAML duplicate key", text: "workloads: []\nworkloads: []\n", want: [{ field: "", message: /^YAML: .*(unique|duplicate)/i }] },
  { name: "unknown top-level key (typo)", text: "workload: []\n", want: [{ field: "", message: /unknown field "workload"/ }] },
  { name: "top level is a list", text: "- a\n", want: [{ field: "", message: /object/i }] },
  {
    name: "unknown workload field (ztunnel's workloadIp is not accepted either)",
    text: `workloads:\n- {name: x, namespace: default, workloadIp: "10.0.0.1"}\n`,
    want: [
      { object: "Workload default/x", field: "workloads[0]", message: /unknown field "workloadIp"/ },
      { object: "Workload default/x", field: "workloads[0].workloadIps", message: /array/ },
    ],
  },
  {
    name: "bad IP",
    text: `workloads:\n- {name: x, namespace: default, workloadIps: ["10.0.0.1", "10.0.0.256"]}\n`,
    want: [{ object: "Workload default/x", field: "workloads[0].workloadIps[1]", message: /IP address/ }],
  },
  {
    name: "workload IP written as a CIDR",
    text: `workloads:\n- {name: x, namespace: default, workloadIps: ["10.0.0.1/32"]}\n`,
    want: [{ object: "Workload default/x", field: "workloads[0].workloadIps[0]", message: /IP address/ }],
  },
  { name: "bad protocol enum (case matters)", text: WL("  protocol: hbone\n"), want: [{ object: "Workload default/x", field: "workloads[0].protocol", message: /TCP.*HBONE/ }] },
  { name: "bad status", text: WL("  status: HEALTHY\n"), want: [{ object: "Workload default/x", field: "workloads[0].status", message: /Healthy.*Unhealthy/ }] },
  { name: "bad networkMode", text: WL("  networkMode: hostNetwork\n"), want: [{ object: "Workload default/x", field: "workloads[0].networkMode", message: /HostNetwork/ }] },
  {
    name: "missing namespace",
    text: `workloads:\n- {name: x, workloadIps: ["10.0.0.1"]}\n`,
    want: [{ object: "Workload x", field: "workloads[0].namespace", message: /string/ }],
  },
  {
    name: "waypoint destination without /",
    text: WL("  waypoint: {destination: waypoint, hboneMtlsPort: 15008}\n"),
    want: [{ object: "Workload default/x", field: "workloads[0].waypoint.destination", message: /"waypoint" must be/ }],
  },
  {
    name: "waypoint without hboneMtlsPort",
    text: WL("  waypoint: {destination: /10.0.0.9}\n"),
    want: [{ object: "Workload default/x", field: "workloads[0].waypoint.hboneMtlsPort", message: /number/ }],
  },
  {
    name: "workload services: port key out of range",
    text: WL(`  services:\n    "default/s.default.svc.cluster.local": {70000: 80}\n`),
    want: [{ object: "Workload default/x", field: "workloads[0].services[default/s.default.svc.cluster.local][70000]", message: /0 to 65535/ }],
  },
  {
    name: "workload services: key without /",
    text: WL(`  services:\n    echo: {80: 8080}\n`),
    want: [{ object: "Workload default/x", field: "workloads[0].services.echo", message: /"echo" must be "<namespace>\/<hostname>"/ }],
  },
  { name: "vip without /", text: SVC("  ports: {}\n", `["10.96.0.1"]`), want: [{ object: "Service default/s", field: "services[0].vips[0]", message: /<network>\/<ip>/ }] },
  { name: "vip that is not an IP", text: SVC("  ports: {}\n", `["net/ten"]`), want: [{ object: "Service default/s", field: "services[0].vips[0]", message: /<network>\/<ip>/ }] },
  { name: "port out of range", text: SVC("  ports: {80: 65536}\n"), want: [{ object: "Service default/s", field: "services[0].ports[80]", message: /65535/ }] },
  { name: "negative port", text: SVC("  ports: {80: -1}\n"), want: [{ object: "Service default/s", field: "services[0].ports[80]", message: /0/ }] },
  { name: "non-numeric port key", text: SVC("  ports: {http: 8080}\n"), want: [{ object: "Service default/s", field: "services[0].ports.http", message: /port "http"/ }] },
  { name: "service without ports", text: SVC(""), want: [{ object: "Service default/s", field: "services[0].ports", message: /object|record/i }] },
  {
    name: "unknown service field",
    text: SVC("  ports: {}\n  vip: /10.96.0.2\n"),
    want: [{ object: "Service default/s", field: "services[0]", message: /unknown field "vip"/ }],
  },
  { name: "policy with bad scope", text: POLICY_HEAD.replace("Namespace", "namespace") + "  - [[]]\n", want: [{ object: P, field: "policies[0].scope", message: /Global/ }] },
  { name: "policy with bad action", text: POLICY_HEAD.replace("Allow", "ALLOW") + "  - [[]]\n", want: [{ object: P, field: "policies[0].action", message: /Allow.*Deny/ }] },
  { name: "policy without rules", text: POLICY_HEAD.replace("  rules:\n", ""), want: [{ object: P, field: "policies[0].rules", message: /array/ }] },
  { name: "bare-string principal", text: RULE("principals: [cluster.local/ns/a/sa/b]"), want: [{ object: P, field: `${M0}.principals[0]`, message: /Exact/ }] },
  { name: "bare-string namespace", text: RULE("notNamespaces: [default]"), want: [{ object: P, field: `${M0}.notNamespaces[0]`, message: /Exact/ }] },
  { name: "bad CIDR length in sourceIps", text: RULE(`sourceIps: ["10.0.0.0/33"]`), want: [{ object: P, field: `${M0}.sourceIps[0]`, message: /CIDR/ }] },
  { name: "bare IP in notSourceIps", text: RULE(`notSourceIps: ["10.0.0.1"]`), want: [{ object: P, field: `${M0}.notSourceIps[0]`, message: /CIDR/ }] },
  { name: "IPv6 CIDR /129 in destinationIps", text: RULE(`destinationIps: ["fd00::/129"]`), want: [{ object: P, field: `${M0}.destinationIps[0]`, message: /CIDR/ }] },
  { name: "destination port out of range", text: RULE("destinationPorts: [70000]"), want: [{ object: P, field: `${M0}.destinationPorts[0]`, message: /65535/ }] },
  { name: "misspelt match field is refused", text: RULE(`sourceIP: ["10.0.0.0/8"]`), want: [{ object: P, field: M0, message: /unknown field "sourceIP"/ }] },
  {
    name: "serviceAccounts entry without serviceAccount",
    text: RULE("serviceAccounts: [{namespace: a}]"),
    want: [{ object: P, field: `${M0}.serviceAccounts[0].serviceAccount`, message: /string/ }],
  },
  // Cross-object conflicts.
  {
    name: "duplicate workload uid",
    text: `workloads:\n- {uid: u, name: a, namespace: default, workloadIps: ["10.0.0.1"]}\n- {uid: u, name: b, namespace: default, workloadIps: ["10.0.0.2"]}\n`,
    want: [{ object: "Workload default/b", field: "workloads[1].uid", message: /uid "u" is already used by Workload default\/a/ }],
  },
  {
    name: "duplicate address",
    text: `workloads:\n- {name: a, namespace: default, workloadIps: ["10.0.0.1"]}\n- {name: b, namespace: default, workloadIps: ["10.0.0.2", "10.0.0.1"]}\n`,
    want: [{ object: "Workload default/b", field: "workloads[1].workloadIps[1]", message: /10\.0\.0\.1 is already used by Workload default\/a/ }],
  },
  {
    name: "duplicate service hostname",
    text: `services:\n- {name: s1, namespace: default, hostname: h.example, vips: [], ports: {}}\n- {name: s2, namespace: default, hostname: h.example, vips: [], ports: {}}\n`,
    want: [{ object: "Service default/s2", field: "services[1].hostname", message: /already used by Service default\/s1/ }],
  },
  {
    name: "duplicate VIP",
    text: `services:\n- {name: s1, namespace: default, hostname: a.example, vips: ["/10.96.0.1"], ports: {}}\n- {name: s2, namespace: default, hostname: b.example, vips: ["/10.96.0.1"], ports: {}}\n`,
    want: [{ object: "Service default/s2", field: "services[1].vips[0]", message: /10\.96\.0\.1 is already used by Service default\/s1/ }],
  },
  {
    name: "VIP equal to a workload IP",
    text: `workloads:\n- {name: a, namespace: default, workloadIps: ["10.0.0.1"]}\nservices:\n- {name: s, namespace: default, hostname: a.example, vips: ["/10.0.0.1"], ports: {}}\n`,
    want: [{ object: "Service default/s", field: "services[0].vips[0]", message: /already used by Workload default\/a/ }],
  },
  {
    name: "duplicate policy",
    text: `policies:\n- {name: p, namespace: default, scope: Namespace, action: Allow, rules: []}\n- {name: p, namespace: default, scope: Namespace, action: Deny, rules: []}\n`,
    want: [{ object: P, field: "policies[1].name", message: /already used/ }],
  },
];

for (const row of invalidRows) {
  test(`invalid: ${row.name}`, () => {
    const problems = problemsOf(row.text);
    for (const w of row.want) {
      expect(problems).toContainEqual({ file: FILE, object: w.object, field: w.field, message: expect.stringMatching(w.message) });
    }
    expect(problems).toHaveLength(row.want.length);
  });
}

test("invalid: a YAML syntax error names its line", () => {
  const [p] = problemsOf("workloads:\n- name: x\n  namespace: [default\n");
  expect(p!.message).toMatch(/line \d+/);
});

test("invalid: a file larger than 16 MiB is refused before parsing", () => {
  const problems = problemsOf("#".repeat(16 * 1024 * 1024 + 1));
  expect(problems).toHaveLength(1);
  expect(problems[0]!.message).toMatch(/larger than/);
});

test("invalid: the error message names file, object and field", () => {
  let message = "";
  try {
    parse(`workloads:\n- {name: x, namespace: default, workloadIps: ["nope"]}\n`);
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message).toBe(`${FILE}: Workload default/x: workloads[0].workloadIps[0]: must be an IP address`);
});

test("invalid: several problems in one file are all reported", () => {
  const problems = problemsOf(`workloads:
- name: a
  namespace: default
  workloadIps: ["10.0.0.300"]
  protocol: UDP
- name: b
  namespace: default
  workloadIps: ["10.0.0.2"]
  status: Sick
services:
- name: s
  namespace: default
  hostname: s.default.svc.cluster.local
  vips: ["10.96.0.1"]
  ports: {80: 70000}
policies:
- name: p
  namespace: default
  scope: Bogus
  action: Allow
  rules:
  - - - principals: [default]
        sourceIps: ["10.0.0.0"]
`);
  expect(problems.map((p) => `${p.object} ${p.field}`)).toEqual([
    "Workload default/a workloads[0].workloadIps[0]",
    "Workload default/a workloads[0].protocol",
    "Workload default/b workloads[1].status",
    "Service default/s services[0].vips[0]",
    "Service default/s services[0].ports[80]",
    `${P} policies[0].scope`,
    `${P} ${M0}.principals[0]`,
    `${P} ${M0}.sourceIps[0]`,
  ]);
  for (const p of problems) expect(p.file).toBe(FILE);
});

test("invalid: several conflicts in one file are all reported", () => {
  const problems = problemsOf(`workloads:
- {uid: u, name: a, namespace: default, workloadIps: ["10.0.0.1"]}
- {uid: u, name: b, namespace: default, workloadIps: ["10.0.0.1"]}
services:
- {name: s1, namespace: default, hostname: h, vips: ["/10.96.0.1"], ports: {}}
- {name: s2, namespace: default, hostname: h, vips: ["/10.96.0.1"], ports: {}}
`);
  expect(problems.map((p) => p.field).sort()).toEqual([
    "services[1].hostname",
    "services[1].vips[0]",
    "workloads[1].uid",
    "workloads[1].workloadIps[0]",
  ]);
});

test("invalid: a services key without / is reported alongside a schema problem elsewhere", () => {
  // The "<namespace>/<hostname>" check is about one workload alone, not a
  // cross-object conflict, so it must not wait for the rest of the file to be valid.
  const problems = problemsOf(`workloads:
- {name: a, namespace: default, workloadIps: ["not-an-ip"]}
- {name: b, namespace: default, workloadIps: ["10.0.0.2"], services: {echo: {80: 8080}}}
`);
  expect(problems.map((p) => p.field).sort()).toEqual(["workloads[0].workloadIps[0]", "workloads[1].services.echo"]);
});
