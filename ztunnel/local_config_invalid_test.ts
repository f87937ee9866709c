// Table tests for ztunnel's local config format: every invalid file is refused,
// whole, with problems naming the file, the object and the field.
import { expect, test } from "bun:test";
import { type ConfigProblem, ConfigError } from "../config/mod.ts";
import { FILE, parse, POLICY_HEAD } from "./_local_config_fixtures.ts";

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
  {
    name: "service account that is not a Kubernetes name (it becomes part of the SPIFFE id)",
    text: WL("  serviceAccount: a/b\n"),
    want: [{ object: "Workload default/x", field: "workloads[0].serviceAccount", message: /service account name/ }],
  },
  {
    name: "namespace that is not a DNS label",
    text: `workloads:\n- {name: x, namespace: Team_A, workloadIps: ["10.0.0.1"]}\n`,
    want: [{ object: "Workload Team_A/x", field: "workloads[0].namespace", message: /namespace name/ }],
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
