// Istio's (pilot/pkg/config/validation) and Kubernetes apimachinery's rules as
// Ambit ports them: one fixture per rule in tests/fixtures/invalid_rules, each
// rejected with exactly one problem naming file, document, object, field and line.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { ConfigError, type ConfigProblem, formatProblem } from "../errors.ts";
import { MAX_NESTING_DEPTH, parseConfig } from "../intake.ts";

const DIR = path.join(import.meta.dir, "..", "..", "tests", "fixtures", "invalid_rules");

interface RuleCase {
  readonly file: string;
  readonly document: number;
  readonly object: string;
  readonly field: string;
  readonly line: number;
  readonly message: RegExp;
}

const CASES: RuleCase[] = [
  { file: "annotations_over_256k.yaml", document: 1, object: "ServiceAccount default/big", field: "metadata.annotations", line: 8, message: /may not be more than 262144 bytes in all \(256 KiB\), not 2621/ },
  { file: "authz_bad_service_account.yaml", document: 1, object: "AuthorizationPolicy foo/allow-sleep", field: "spec.rules[0].from[0].source.serviceAccounts[0]", line: 9, message: /"foo\/bar\/sleep" must be "<service account>" or "<namespace>\// },
  { file: "authz_empty_principal.yaml", document: 1, object: "AuthorizationPolicy foo/allow-sleep", field: "spec.rules[0].from[0].source.principals[1]", line: 9, message: /empty value not allowed/ },
  { file: "authz_empty_when_value.yaml", document: 1, object: "AuthorizationPolicy foo/by-namespace", field: "spec.rules[0].when[0].values[0]", line: 9, message: /empty value not allowed/ },
  { file: "authz_service_accounts_with_principals.yaml", document: 1, object: "AuthorizationPolicy foo/allow-sleep", field: "spec.rules[0].from[0].source.serviceAccounts", line: 9, message: /cannot be set together with principals or namespaces/ },
  { file: "authz_too_many_service_accounts.yaml", document: 1, object: "AuthorizationPolicy foo/many", field: "spec.rules[0].from[0].source.serviceAccounts", line: 9, message: /may list at most 16 service accounts, not 17/ },
  { file: "label_key_prefix_not_dns.yaml", document: 1, object: "Namespace shop", field: "metadata.labels[Example.COM/team]", line: 7, message: /key "Example\.COM\/team" must be "name" or "prefix\/name" \(name/ },
  { file: "label_value_too_long.yaml", document: 1, object: "ServiceAccount default/labelled", field: "metadata.labels.tier", line: 8, message: /"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/ },
  { file: "name_too_long.yaml", document: 1, object: "Namespace nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn", field: "metadata.name", line: 5, message: /"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn/ },
  { file: "peer_authentication_port_zero.yaml", document: 1, object: "PeerAuthentication bar/httpbin", field: "spec.portLevelMtls[0]", line: 8, message: /port "0" must be a number from 1 to 65535/ },
  { file: "request_authentication_empty_audience.yaml", document: 1, object: "RequestAuthentication foo/jwt", field: "spec.jwtRules[0].audiences[0]", line: 8, message: /must not be empty/ },
  { file: "second_document_bad.yaml", document: 2, object: "AuthorizationPolicy default/broken", field: "spec.rules[0].to[0].operation.ports[0]", line: 14, message: /"0" must be a port number from 1 to 65535, written as a stri/ },
  { file: "service_cluster_ips_mismatch.yaml", document: 1, object: "Service default/web", field: "spec.clusterIPs[0]", line: 7, message: /must match spec\.clusterIP \("10\.96\.0\.10"\)/ },
  { file: "service_dual_stack_single_policy.yaml", document: 1, object: "Service default/web", field: "spec.ipFamilies", line: 6, message: /two families need ipFamilyPolicy PreferDualStack or RequireD/ },
  { file: "service_entry_dns_wildcard.yaml", document: 1, object: "ServiceEntry default/wiki", field: "spec.hosts[0]", line: 6, message: /wildcard host "\*\.wikipedia\.org" cannot be resolved by DNS: l/ },
  { file: "service_entry_endpoint_unknown_port.yaml", document: 1, object: "ServiceEntry default/db", field: "spec.endpoints[0].ports.postgresql", line: 11, message: /port "postgresql" is not one of the ServiceEntry's ports \(po/ },
  { file: "service_entry_round_robin_two_endpoints.yaml", document: 1, object: "ServiceEntry default/api", field: "spec.endpoints", line: 10, message: /resolution DNS_ROUND_ROBIN takes at most one endpoint, not 2/ },
  { file: "service_entry_star_host.yaml", document: 1, object: "ServiceEntry default/everything", field: "spec.hosts[0]", line: 6, message: /invalid host "\*": a ServiceEntry must name its hosts/ },
  { file: "service_external_name_missing.yaml", document: 1, object: "Service default/legacy-db", field: "spec.externalName", line: 6, message: /required for an ExternalName Service/ },
  { file: "service_name_starts_with_digit.yaml", document: 1, object: "Service default/1reviews", field: "metadata.name", line: 4, message: /"1reviews" must start with a lower-case letter and contain o/ },
  { file: "service_node_port_on_cluster_ip.yaml", document: 1, object: "Service default/web", field: "spec.ports[0].nodePort", line: 7, message: /may not be used when type is ClusterIP/ },
  { file: "workload_entry_bad_weight.yaml", document: 1, object: "WorkloadEntry default/vm", field: "spec.weight", line: 7, message: /must be at least 0, not -1/ },
  { file: "workload_entry_unix_with_ports.yaml", document: 1, object: "WorkloadEntry default/local", field: "spec.ports", line: 7, message: /must not be set for a unix:\/\/ address/ },
];

function problemsOf(text: string, file: string): readonly ConfigProblem[] {
  try {
    parseConfig(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error(`${file} was accepted`);
}

test("every rule fixture has a case and every case a fixture", () => {
  expect(readdirSync(DIR).sort()).toEqual(CASES.map((c) => c.file).sort());
});

for (const c of CASES) {
  test(c.file, () => {
    const problems = problemsOf(readFileSync(path.join(DIR, c.file), "utf8"), c.file);
    expect(problems).toHaveLength(1);
    const [p] = problems;
    expect({ file: p!.file, document: p!.document, object: p!.object, field: p!.field, line: p!.line })
      .toEqual({ file: c.file, document: c.document, object: c.object, field: c.field, line: c.line });
    expect(p!.message).toMatch(c.message);
    expect(formatProblem(p!)).toEndWith(`(line ${c.line})`);
  });
}

test("a parse that fails on depth names the line where the limit is crossed", () => {
  const deep = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n` +
    Array.from({ length: MAX_NESTING_DEPTH + 2 }, (_, i) => `${"  ".repeat(i + 1)}k${i}:\n`).join("") + `${"  ".repeat(MAX_NESTING_DEPTH + 3)}v: 1\n`;
  const [p] = problemsOf(deep, "deep.yaml");
  expect(p!.message).toBe(`nesting is deeper than ${MAX_NESTING_DEPTH} levels`);
  // The document is level 1 and data level 2, so the map under k62 is level 65: it starts on k63's line.
  expect(deep.split("\n")[p!.line! - 1]!.trim()).toBe(`k${MAX_NESTING_DEPTH - 1}:`);
  const flow = "a: " + "[".repeat(1200) + "]".repeat(1200);
  expect(problemsOf(`x: 1\n${flow}\n`, "flow.yaml")[0]!.line).toBe(2);
});

test("a parse that fails on size names the file and the line the limit falls on", () => {
  const text = "a: 1\nb: 2\n" + "c: " + "x".repeat(100) + "\n";
  const [p] = (() => {
    try {
      parseConfig(text, "big.yaml", { maxDocumentBytes: 20 });
    } catch (e) {
      return (e as ConfigError).problems;
    }
    throw new Error("accepted");
  })();
  expect(p).toMatchObject({ file: "big.yaml", line: 3 });
});
