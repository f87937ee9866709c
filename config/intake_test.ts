import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { ConfigError, type ConfigProblem } from "./errors.ts";
import { MAX_NESTING_DEPTH, type ParseConfigOptions, parseConfig } from "./intake.ts";

const FIXTURES = path.join(import.meta.dir, "..", "tests", "fixtures");
const INVALID = path.join(FIXTURES, "invalid_config");
const VALID = path.join(FIXTURES, "valid_config");

interface InvalidCase {
  readonly file: string;
  readonly options?: ParseConfigOptions;
  readonly document?: number;
  readonly object?: string;
  readonly field: string;
  readonly message: RegExp;
}

const AP = "AuthorizationPolicy";

// One file per case, each with exactly one problem.
const INVALID_CASES: InvalidCase[] = [
  { file: "syntax_error.yaml", document: 2, field: "", message: /^YAML syntax error at line 12, column 3: / },
  { file: "duplicate_yaml_key.yaml", document: 1, field: "", message: /^YAML syntax error at line 7, column 3: Map keys must be unique/ },
  { file: "json_syntax_error.json", document: 1, field: "", message: /^JSON syntax error at line 6, column 5: / },
  { file: "unknown_kind.yaml", document: 1, object: "Deployment bookinfo/reviews-v1", field: "kind", message: /^unknown kind "Deployment"/ },
  { file: "unknown_api_version.yaml", document: 1, object: `${AP} foo/allow-nothing`, field: "apiVersion", message: /"security.istio.io\/v2" is not known.*use security.istio.io\/v1, / },
  { file: "missing_kind.yaml", document: 1, field: "kind", message: /^required$/ },
  { file: "document_not_a_map.yaml", document: 2, field: "", message: /must be a map/ },
  { file: "unknown_field.yaml", document: 1, object: `${AP} default/productpage-viewer`, field: "spec.rules[0]", message: /^unknown field "form"$/ },
  { file: "wrong_type_port_string.yaml", document: 1, object: "Service bookinfo/details", field: "spec.ports[0].port", message: /must be a number, not "9080"/ },
  { file: "selector_label_not_string.yaml", document: 1, object: `${AP} foo/httpbin`, field: "spec.selector.matchLabels.version", message: /must be a string, not 1/ },
  { file: "principal_with_spiffe_prefix.yaml", document: 1, object: `${AP} default/details-viewer`, field: "spec.rules[0].from[0].source.principals[0]", message: /^principals must not include the spiffe:\/\/ prefix$/ },
  { file: "principal_wildcard_in_middle.yaml", document: 1, object: `${AP} default/details-viewer`, field: "spec.rules[0].from[0].source.principals[1]", message: /one "\*", only at its start or its end/ },
  { file: "bad_ip_block.yaml", document: 1, object: `${AP} foo/allow-office`, field: "spec.rules[0].from[0].source.ipBlocks[1]", message: /"203.0.113.300" must be an IP address or a CIDR/ },
  { file: "port_out_of_range.yaml", document: 1, object: `${AP} foo/deny-admin-port`, field: "spec.rules[0].to[0].operation.ports[1]", message: /"70000" must be a port number from 1 to 65535/ },
  { file: "bad_action.yaml", document: 1, object: `${AP} foo/httpbin`, field: "spec.action", message: /must be one of ALLOW, DENY, AUDIT, CUSTOM, not "REJECT"/ },
  { file: "custom_without_provider.yaml", document: 1, object: `${AP} istio-system/ext-authz`, field: "spec.provider", message: /required when action is CUSTOM/ },
  { file: "allow_with_provider.yaml", document: 1, object: `${AP} istio-system/ext-authz`, field: "spec.provider", message: /only allowed with action CUSTOM/ },
  { file: "empty_from_list.yaml", document: 1, object: `${AP} foo/httpbin`, field: "spec.rules[0].from", message: /must not be empty/ },
  { file: "unknown_condition_key.yaml", document: 1, object: `${AP} foo/httpbin`, field: "spec.rules[0].when[0].key", message: /unknown key "request.method"/ },
  { file: "selector_and_target_refs.yaml", document: 1, object: `${AP} default/productpage-viewer`, field: "spec.selector", message: /only one of selector, targetRef or targetRefs/ },
  { file: "bad_mtls_mode.yaml", document: 1, object: "PeerAuthentication istio-system/default", field: "spec.mtls.mode", message: /must be one of UNSET, DISABLE, PERMISSIVE, STRICT, not "REQUIRED"/ },
  { file: "peer_authentication_bad_port_key.yaml", document: 1, object: "PeerAuthentication bar/httpbin", field: "spec.portLevelMtls.http", message: /port "http" must be a number from 1 to 65535/ },
  { file: "port_level_mtls_without_selector.yaml", document: 1, object: "PeerAuthentication bar/default", field: "spec.portLevelMtls", message: /needs a selector/ },
  { file: "duplicate_names.yaml", document: 3, object: "Service default/reviews", field: "metadata.name", message: /^duplicate: Service default\/reviews is already defined in document 1$/ },
  { file: "missing_metadata_name.yaml", document: 1, object: "ServiceAccount bookinfo/?", field: "metadata.name", message: /^required$/ },
  { file: "uppercase_name.yaml", document: 1, object: "WorkloadEntry bookinfo/Details-VM", field: "metadata.name", message: /"Details-VM" must be a DNS subdomain/ },
  { file: "bad_namespace.yaml", document: 1, object: "ServiceAccount team_a/sleep", field: "metadata.namespace", message: /"team_a" must be a DNS label/ },
  { file: "namespace_with_namespace.yaml", document: 1, object: "Namespace bookinfo", field: "metadata.namespace", message: /must not be set: this kind is cluster-scoped/ },
  { file: "service_port_without_number.yaml", document: 1, object: "Service bookinfo/productpage", field: "spec.ports[0].port", message: /^required$/ },
  { file: "httproute_negative_weight.yaml", document: 1, object: "HTTPRoute bookinfo/reviews", field: "spec.rules[0].backendRefs[1].weight", message: /must be at least 0, not -10/ },
  { file: "httproute_service_backend_without_port.yaml", document: 1, object: "HTTPRoute bookinfo/reviews", field: "spec.rules[0].backendRefs[0].port", message: /required for a Service backend/ },
  { file: "gateway_listener_without_port.yaml", document: 1, object: "Gateway bookinfo/waypoint", field: "spec.listeners[0].port", message: /^required$/ },
  { file: "gateway_duplicate_listener.yaml", document: 1, object: "Gateway bookinfo/bookinfo-gateway", field: "spec.listeners[1]", message: /listener name "http" is already used by item 0/ },
  { file: "alias_bomb.yaml", document: 1, field: "", message: /^too many aliases/ },
  { file: "nesting_70_levels.yaml", document: 1, field: "", message: /^nesting is deeper than 64 levels$/ },
  { file: "oversize.yaml", options: { maxDocumentBytes: 1024 }, field: "", message: /^input is 1181 bytes, over the limit of 1024 bytes$/ },
  { file: "too_many_documents.yaml", options: { maxDocuments: 2 }, document: 3, field: "", message: /^more than 2 documents/ },
  { file: "list_with_bad_item.json", document: 1, object: "Service bookinfo/ratings", field: "items[1].spec.ports[0].protocol", message: /must be one of TCP, UDP, SCTP, not "HTTP"/ },
  { file: "json_array_bad_item.json", document: 1, object: "ServiceAccount bookinfo/bookinfo_reviews", field: "[1].metadata.name", message: /must be a DNS subdomain/ },
  { file: "pod_bad_pod_ip.yaml", document: 1, object: "Pod bookinfo/ratings-v1-7c9bd4b87f-2xjrv", field: "status.podIP", message: /"10.244.1.300" must be an IP address/ },
  // A service account name ends up in the SPIFFE id: a '/' in it would name another identity.
  { file: "pod_bad_service_account.yaml", document: 1, object: "Pod bookinfo/ratings-v1-7c9bd4b87f-2xjrv", field: "spec.serviceAccountName", message: /"..\/..\/ns\/istio-system\/sa\/istiod" must be a DNS subdomain/ },
  { file: "workload_entry_bad_service_account.yaml", document: 1, object: "WorkloadEntry bookinfo/details-svc", field: "spec.serviceAccount", message: /"Details_Legacy" must be a DNS subdomain/ },
  { file: "workload_entry_bad_address.yaml", document: 1, object: "WorkloadEntry bookinfo/details-svc", field: "spec.address", message: /"2.2.2.256" must be an IP address, a hostname/ },
  { file: "service_entry_bad_resolution.yaml", document: 1, object: "ServiceEntry default/external-svc-https", field: "spec.resolution", message: /not "DYNAMIC_DNS"/ },
  { file: "service_entry_without_hosts.yaml", document: 1, object: "ServiceEntry default/external-svc", field: "spec.hosts", message: /^required$/ },
  { file: "jwt_rule_without_issuer.yaml", document: 1, object: "RequestAuthentication istio-system/jwt-example", field: "spec.jwtRules[0].issuer", message: /^required$/ },
  { file: "jwks_uri_not_a_url.yaml", document: 1, object: "RequestAuthentication istio-system/jwt-example", field: "spec.jwtRules[0].jwksUri", message: /must be an http:\/\/ or https:\/\/ URL/ },
];

/** Runs the intake, returning the problems it threw; fails if it returned anything. */
function rejects(text: string, file: string, options?: ParseConfigOptions): readonly ConfigProblem[] {
  let returned: unknown;
  try {
    returned = parseConfig(text, file, options);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  expect(returned).toBeUndefined();
  return [];
}

describe("parseConfig rejects invalid config", () => {
  test("every fixture has a case and every case a fixture", () => {
    expect(readdirSync(INVALID).sort()).toEqual(INVALID_CASES.map((c) => c.file).sort());
  });

  for (const c of INVALID_CASES) {
    test(c.file, () => {
      const problems = rejects(readFileSync(path.join(INVALID, c.file), "utf8"), c.file, c.options);
      expect(problems).toHaveLength(1);
      const [p] = problems;
      expect({ file: p!.file, document: p!.document, object: p!.object, field: p!.field })
        .toEqual({ file: c.file, document: c.document, object: c.object, field: c.field });
      expect(p!.message).toMatch(c.message);
    });
  }

  test("collects every problem across documents", () => {
    const text = readFileSync(path.join(INVALID, "bad_ip_block.yaml"), "utf8") + "---\n" +
      readFileSync(path.join(INVALID, "bad_mtls_mode.yaml"), "utf8");
    expect(rejects(text, "two.yaml").map((p) => `${p.document} ${p.field}`))
      .toEqual(["1 spec.rules[0].from[0].source.ipBlocks[1]", "2 spec.mtls.mode"]);
  });

  test("hostile nesting fails fast instead of exhausting the stack", () => {
    const started = performance.now();
    for (const text of ["[".repeat(1_000_000), "- ".repeat(1_000_000) + "x\n", "{a: ".repeat(200_000)]) {
      expect(rejects(text, "deep.yaml")[0]!.message).toBe(`nesting is deeper than ${MAX_NESTING_DEPTH} levels`);
    }
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test("a flood of empty documents hits the document limit", () => {
    expect(rejects("---\n".repeat(1_000_000), "empty.yaml")[0]!.message).toMatch(/^more than 1000 documents/);
  });
});

describe("parseConfig accepts valid config", () => {
  for (const file of readdirSync(VALID).sort()) {
    test(file, () => {
      const { objects, warnings } = parseConfig(readFileSync(path.join(VALID, file), "utf8"), file);
      expect(objects.length).toBeGreaterThan(0);
      expect(warnings).toEqual([]);
    });
  }

  test("allow-nothing has no rules, and action defaults to ALLOW", () => {
    const { objects } = parseConfig(readFileSync(path.join(VALID, "authz_allow_nothing.yaml"), "utf8"), "a.yaml");
    expect(objects[0]!.spec).toEqual({ action: "ALLOW" });
  });

  test("namespaced objects without a namespace get the default one, which the caller may choose", () => {
    const text = readFileSync(path.join(VALID, "httproute_weighted.yaml"), "utf8");
    expect(parseConfig(text, "r.yaml").objects[0]!.metadata.namespace).toBe("default");
    expect(parseConfig(text, "r.yaml", { defaultNamespace: "bookinfo" }).objects[0]!.metadata.namespace).toBe("bookinfo");
  });

  test("objects come back frozen", () => {
    const { objects } = parseConfig(readFileSync(path.join(VALID, "waypoint_gateway.yaml"), "utf8"), "w.yaml");
    expect(Object.isFrozen(objects[0])).toBe(true);
    expect(Object.isFrozen((objects[0]!.spec as { listeners: object[] }).listeners[0])).toBe(true);
  });

  test("port-level mTLS keys written as YAML numbers read as port strings", () => {
    const { objects } = parseConfig(readFileSync(path.join(VALID, "peer_authentication_port_level.yaml"), "utf8"), "p.yaml");
    expect((objects[0]!.spec as { portLevelMtls: object }).portLevelMtls).toEqual({ "80": { mode: "DISABLE" } });
  });

  test("JSON: one object, a List, an array", () => {
    const ns = (name: string) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
    expect(parseConfig(JSON.stringify(ns("a")), "o.json").objects).toHaveLength(1);
    expect(parseConfig(JSON.stringify({ apiVersion: "v1", kind: "List", items: [ns("a"), ns("b")] }), "l.json").objects).toHaveLength(2);
    expect(parseConfig(JSON.stringify([ns("a"), ns("b"), ns("c")]), "a.json").objects).toHaveLength(3);
  });

  test("a Pod as `kubectl get -o yaml` prints it, with fields Ambit does not read", () => {
    const pod = `apiVersion: v1
kind: Pod
metadata:
  name: ratings-v1-7c9bd4b87f-2xjrv
  namespace: bookinfo
  uid: 5b1c3f0e-8f2a-4d8e-9c41-3b7b1f0c2a11
  resourceVersion: "81234"
  creationTimestamp: "2026-08-01T10:00:00Z"
  labels: {app: ratings, version: v1}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: ratings-v1-7c9bd4b87f, uid: x, controller: true}]
spec:
  nodeName: node-1
  serviceAccountName: bookinfo-ratings
  restartPolicy: Always
  containers:
  - name: ratings
    image: docker.io/istio/examples-bookinfo-ratings-v1:1.20.1
    resources: {}
    ports: [{containerPort: 9080, protocol: TCP}]
status:
  phase: Running
  podIP: 10.244.1.7
  podIPs: [{ip: 10.244.1.7}, {ip: "fd00::7"}]
  qosClass: BestEffort
  conditions: [{type: Ready, status: "True"}]
`;
    const [o] = parseConfig(pod, "pod.yaml").objects;
    expect((o!.status as { podIP: string }).podIP).toBe("10.244.1.7");
  });

  test(`${MAX_NESTING_DEPTH} levels of nesting are accepted`, () => {
    // The document is level 1, spec level 2, then maps down to level 64.
    let data = "{x: 1}";
    for (let i = 0; i < MAX_NESTING_DEPTH - 3; i++) data = `{l: ${data}}`;
    const text = `apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: deep}\nspec: {a: ${data}}\n`;
    expect(parseConfig(text, "d.yaml").objects).toHaveLength(1);
    expect(rejects(text.replace("{x: 1}", "{x: {y: 1}}"), "d.yaml")[0]!.message).toBe(`nesting is deeper than ${MAX_NESTING_DEPTH} levels`);
  });

  test("a null field reads as absent, as in Kubernetes", () => {
    const { objects } = parseConfig("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: deny-all\n  labels:\nspec:\n", "n.yaml");
    expect(objects[0]!.metadata.labels).toBeUndefined();
    expect(objects[0]!.spec).toEqual({ action: "ALLOW" });
  });
});

describe("warnings", () => {
  test("stored-only kinds are kept as written, with a warning", () => {
    const text = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v2}
`;
    const { objects, warnings } = parseConfig(text, "vs.yaml");
    expect((objects[0]!.spec as { hosts: string[] }).hosts).toEqual(["reviews"]);
    expect(warnings).toEqual([{
      file: "vs.yaml", document: 1, object: "VirtualService bookinfo/reviews", field: "kind",
      message: "VirtualService (networking.istio.io) is stored but not enforced by Ambit",
    }]);
  });

  test("the Istio Gateway and the Gateway API Gateway are different kinds", () => {
    const istio = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec: {servers: []}\n";
    const k8s = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw}\n" +
      "spec: {gatewayClassName: istio, listeners: [{name: http, port: 80, protocol: HTTP}]}\n";
    const { objects, warnings } = parseConfig(`${istio}---\n${k8s}`, "gw.yaml");
    expect(objects.map((o) => o.apiVersion)).toEqual(["networking.istio.io/v1", "gateway.networking.k8s.io/v1"]);
    expect(warnings.map((w) => w.document)).toEqual([1]);
  });

  test("validate: warn drops unknown fields with a warning; other errors stay errors", () => {
    const text = readFileSync(path.join(INVALID, "unknown_field.yaml"), "utf8");
    const { objects, warnings } = parseConfig(text, "u.yaml", { validate: "warn" });
    expect(objects[0]!.spec).toEqual({ action: "ALLOW", rules: [{}] });
    expect(warnings).toEqual([{
      file: "u.yaml", document: 1, object: "AuthorizationPolicy default/productpage-viewer", field: "spec.rules[0]",
      message: "unknown field \"form\" ignored",
    }]);
    const both = text.replace("  rules:", "  action: REJECT\n  rules:");
    const problems = rejects(both, "u.yaml", { validate: "warn" });
    expect(problems.map((p) => p.field)).toEqual(["spec.action"]);
  });
});
