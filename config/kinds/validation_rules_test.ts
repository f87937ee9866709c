// Istio's (pilot/pkg/config/validation), Kubernetes apimachinery's and the
// Gateway API CRDs' (schemas and CEL rules) rules as Ambit ports them: one fixture per rule in tests/fixtures/invalid_rules, each
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
  { file: "gateway_duplicate_ip_address.yaml", document: 1, object: "Gateway default/ingress", field: "spec.addresses", line: 9, message: /IPAddress values must be unique/ },
  { file: "gateway_hostname_address_invalid.yaml", document: 1, object: "Gateway default/ingress", field: "spec.addresses[0]", line: 9, message: /Hostname value must be empty or contain only valid character/ },
  { file: "gateway_https_passthrough.yaml", document: 1, object: "Gateway default/ingress", field: "spec.listeners", line: 8, message: /tls mode must be Terminate for protocol HTTPS/ },
  { file: "gateway_ip_address_invalid.yaml", document: 1, object: "Gateway default/ingress", field: "spec.addresses[0].value", line: 9, message: /"10\.0\.0\.300" must be an IP address/ },
  { file: "gateway_terminate_without_certificates.yaml", document: 1, object: "Gateway default/ingress", field: "spec.listeners[0].tls", line: 11, message: /certificateRefs or options must be specified when mode is Te/ },
  { file: "grpcroute_filter_repeated.yaml", document: 1, object: "GRPCRoute default/greeter", field: "spec.rules[0].filters", line: 9, message: /ResponseHeaderModifier filter cannot be repeated/ },
  { file: "grpcroute_parent_refs_not_unique.yaml", document: 1, object: "GRPCRoute default/greeter", field: "spec.parentRefs", line: 7, message: /sectionName or port must be unique when parentRefs includes / },
  { file: "grpcroute_redirect_filter.yaml", document: 1, object: "GRPCRoute default/greeter", field: "spec.rules[0].filters[0].type", line: 9, message: /must be one of RequestHeaderModifier, ResponseHeaderModifier/ },
  { file: "grpcroute_too_many_matches.yaml", document: 1, object: "GRPCRoute default/greeter", field: "spec.rules[0].matches", line: 8, message: /must have at most 8 items/ },
  { file: "httproute_backend_timeout_longer.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.rules[0].timeouts", line: 8, message: /backendRequest timeout cannot be longer than request timeout/ },
  { file: "httproute_duplicate_header_match.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.rules[0].matches[0].headers[1]", line: 11, message: /header match name "x-canary" is already used by item 0/ },
  { file: "httproute_filter_foreign_member.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.rules[0].filters[0]", line: 9, message: /filter\.requestHeaderModifier must be nil if the filter\.type / },
  { file: "httproute_filter_member_missing.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.rules[0].filters[0]", line: 9, message: /filter\.requestRedirect must be specified for RequestRedirect/ },
  { file: "httproute_header_modifier_bad_name.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.rules[0].filters[0].requestHeaderModifier.set[0].name", line: 11, message: /"x canary" must be an HTTP header name \(RFC 7230 token, 1 to/ },
  { file: "httproute_header_modifier_repeated.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.rules[0].filters", line: 9, message: /RequestHeaderModifier filter cannot be repeated/ },
  { file: "httproute_mirror_fraction_over_one.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.rules[0].filters[0].requestMirror.fraction", line: 12, message: /numerator must be less than or equal to denominator/ },
  { file: "httproute_mirror_percent_and_fraction.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.rules[0].filters[0].requestMirror", line: 11, message: /Only one of percent or fraction may be specified in HTTPRequ/ },
  { file: "httproute_parent_refs_not_unique.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.parentRefs", line: 7, message: /sectionName or port must be unique when parentRefs includes / },
  { file: "httproute_parent_refs_section_unspecified.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.parentRefs", line: 7, message: /sectionName or port must be specified when parentRefs includ/ },
  { file: "httproute_path_dot_dot_segment.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.rules[0].matches[0].path", line: 10, message: /must not contain '\/\.\.\/' when type one of \['Exact', 'PathPref/ },
  { file: "httproute_path_dot_segment.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.rules[0].matches[0].path", line: 10, message: /must not contain '\/\.\/' when type one of \['Exact', 'PathPrefi/ },
  { file: "httproute_path_double_slash.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.rules[0].matches[0].path", line: 10, message: /must not contain '\/\/' when type one of \['Exact', 'PathPrefix/ },
  { file: "httproute_path_encoded_slash.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.rules[0].matches[0].path", line: 10, message: /must not contain '%2F' when type one of \['Exact', 'PathPrefi/ },
  { file: "httproute_path_ends_with_dot_dot.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.rules[0].matches[0].path", line: 10, message: /must not end with '\/\.\.' when type one of \['Exact', 'PathPref/ },
  { file: "httproute_path_invalid_character.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.rules[0].matches[0].path", line: 10, message: /must only contain valid characters \(matching \^\(\?:\[-A-Za-z0-9/ },
  { file: "httproute_path_modifier_type_mismatch.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.rules[0].filters[0].urlRewrite.path", line: 11, message: /type must be 'ReplacePrefixMatch' when replacePrefixMatch is/ },
  { file: "httproute_path_not_absolute.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.rules[0].matches[0].path", line: 10, message: /value must be an absolute path and start with '\/' when type / },
  { file: "httproute_prefix_rewrite_exact_match.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.rules[0]", line: 8, message: /When using URLRewrite filter with path\.replacePrefixMatch, e/ },
  { file: "httproute_redirect_and_rewrite.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.rules[0].filters", line: 9, message: /May specify either httpRouteFilterRequestRedirect or httpRou/ },
  { file: "httproute_redirect_status_code.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.rules[0].filters[0].requestRedirect.statusCode", line: 9, message: /must be one of 301, 302, 303, 307, 308, not 305/ },
  { file: "httproute_redirect_with_backend_refs.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.rules[0]", line: 8, message: /RequestRedirect filter must not be used together with backen/ },
  { file: "httproute_too_many_matches.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.rules", line: 8, message: /While 16 rules and 64 matches per rule are allowed, the tota/ },
  { file: "httproute_unknown_filter_type.yaml", document: 1, object: "HTTPRoute default/reviews", field: "spec.rules[0].filters[0].type", line: 9, message: /must be one of RequestHeaderModifier, ResponseHeaderModifier/ },
  { file: "label_key_prefix_not_dns.yaml", document: 1, object: "Namespace shop", field: "metadata.labels[Example.COM/team]", line: 7, message: /key "Example\.COM\/team" must be "name" or "prefix\/name" \(name/ },
  { file: "label_value_too_long.yaml", document: 1, object: "ServiceAccount default/labelled", field: "metadata.labels.tier", line: 8, message: /"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/ },
  { file: "name_too_long.yaml", document: 1, object: "Namespace nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn", field: "metadata.name", line: 5, message: /"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn/ },
  { file: "peer_authentication_port_zero.yaml", document: 1, object: "PeerAuthentication bar/httpbin", field: "spec.portLevelMtls[0]", line: 8, message: /port "0" must be a number from 1 to 65535/ },
  { file: "request_authentication_empty_audience.yaml", document: 1, object: "RequestAuthentication foo/jwt", field: "spec.jwtRules[0].audiences[0]", line: 8, message: /must not be empty/ },
  { file: "second_document_bad.yaml", document: 2, object: "AuthorizationPolicy default/broken", field: "spec.rules[0].to[0].operation.ports[0]", line: 14, message: /"0" must be a port number from 1 to 65535, written as a stri/ },
  { file: "service_cluster_ips_mismatch.yaml", document: 1, object: "Service default/web", field: "spec.clusterIPs[0]", line: 7, message: /must match spec\.clusterIP \("10\.96\.0\.10"\)/ },
  { file: "service_dual_stack_single_policy.yaml", document: 1, object: "Service default/web", field: "spec.ipFamilies", line: 6, message: /two families need ipFamilyPolicy PreferDualStack or RequireD/ },
  { file: "service_entry_cidr_with_dns.yaml", document: 1, object: "ServiceEntry default/partners", field: "spec.addresses[0]", line: 7, message: /CIDR addresses are allowed only for NONE\/STATIC resolution types, not DNS/ },
  { file: "service_entry_export_to_star_and_namespace.yaml", document: 1, object: "ServiceEntry default/api", field: "spec.exportTo", line: 9, message: /"\*" cannot be combined with other exportTo values/ },
  { file: "service_entry_selector_without_labels.yaml", document: 1, object: "ServiceEntry default/vms", field: "spec.workloadSelector", line: 10, message: /configured workloadSelector but no labels provided/ },
  { file: "service_external_traffic_policy_on_cluster_ip.yaml", document: 1, object: "Service default/web", field: "spec.externalTrafficPolicy", line: 7, message: /may only be set when type is NodePort or LoadBalancer, not ClusterIP/ },
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
