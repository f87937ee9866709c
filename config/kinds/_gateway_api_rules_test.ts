// The Gateway API CEL rules (config/kinds/_gateway_api_rules.ts) as a table: what
// each accepts as well as what it refuses, with the CRD's defaults applied.
import { describe, expect, test } from "bun:test";
import { GatewaySpecSchema } from "./gateway.ts";
import { GRPCRouteSpecSchema } from "./grpc_route.ts";
import { HTTPRouteSpecSchema } from "./http_route.ts";

const backend = { backendRefs: [{ name: "v1", port: 80 }] };
const path = (type: string, value: string) => ({ rules: [{ matches: [{ path: { type, value } }], ...backend }] });
const filters = (f: object[], rest: object = backend) => ({ rules: [{ filters: f, ...rest }] });
const rewrite = (p: object) => ({ type: "URLRewrite", urlRewrite: { path: p } });
const messages = (r: { error?: { issues: { message: string }[] } }) => r.error?.issues.map((i) => i.message) ?? [];

describe("HTTPRoute CEL rules", () => {
  const cases: [string, object, RegExp | undefined][] = [
    ["a clean prefix", path("PathPrefix", "/api/v1"), undefined],
    ["a regular expression is not a path", path("RegularExpression", "^/api/.*//x#"), undefined],
    ["'#'", path("Exact", "/a#b"), /must not contain '#'/],
    ["'%2f'", path("PathPrefix", "/a%2fb"), /must not contain '%2f'/],
    ["ending in '/.'", path("PathPrefix", "/a/."), /must not end with '\/\.'/],
    ["a match without a path (PathPrefix / by default) with a prefix rewrite", { rules: [{ filters: [rewrite({ type: "ReplacePrefixMatch", replacePrefixMatch: "/x" })], ...backend }] }, undefined],
    ["a prefix rewrite under two matches", { rules: [{ matches: [{ path: { value: "/a" } }, { path: { value: "/b" } }], filters: [rewrite({ type: "ReplacePrefixMatch", replacePrefixMatch: "/x" })], ...backend }] }, /URLRewrite filter with path\.replacePrefixMatch/],
    ["a prefix redirect inside a backendRef under an Exact match", { rules: [{ matches: [{ path: { type: "Exact", value: "/a" } }], backendRefs: [{ name: "v1", port: 80, filters: [{ type: "RequestRedirect", requestRedirect: { path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/x" } } }] }] }] }, /Within backendRefs, when using RequestRedirect/],
    ["a full-path rewrite without its value", filters([rewrite({ type: "ReplaceFullPath" })]), /replaceFullPath must be specified when type is set to 'ReplaceFullPath'/],
    ["a CORS filter once", filters([{ type: "CORS", cors: { allowOrigins: ["https://a.example"] } }]), undefined],
    ["CORS twice", filters([{ type: "CORS", cors: {} }, { type: "CORS", cors: {} }]), /CORS filter cannot be repeated/],
    ["an ExtensionRef without its reference", filters([{ type: "ExtensionRef" }]), /filter\.extensionRef must be specified/],
    ["two mirrors (allowed)", filters([{ type: "RequestMirror", requestMirror: { backendRef: { name: "a", port: 1 } } }, { type: "RequestMirror", requestMirror: { backendRef: { name: "b", port: 1 } } }]), undefined],
    ["a mirror to a Service without a port", filters([{ type: "RequestMirror", requestMirror: { backendRef: { name: "a" } } }]), /Must have port for Service reference/],
    ["a header set twice", filters([{ type: "RequestHeaderModifier", requestHeaderModifier: { set: [{ name: "x", value: "1" }, { name: "x", value: "2" }] } }]), /Duplicate value: "x"/],
    ["a request timeout of 0s disables the bound", { rules: [{ timeouts: { request: "0s", backendRequest: "1h" }, ...backend }] }, undefined],
    ["1m30s outlasts 1m", { rules: [{ timeouts: { request: "1m", backendRequest: "1m30s" }, ...backend }] }, /backendRequest timeout cannot be longer/],
    ["one Gateway, two sections", { parentRefs: [{ name: "gw", sectionName: "a" }, { name: "gw", sectionName: "b" }], ...filters([]) }, undefined],
    ["two Gateways of one name in two namespaces", { parentRefs: [{ name: "gw", namespace: "a" }, { name: "gw", namespace: "b" }], ...filters([]) }, undefined],
    ["128 matches in all", { rules: Array.from({ length: 8 }, () => ({ matches: Array.from({ length: 16 }, () => ({})), ...backend })) }, undefined],
  ];
  for (const [name, spec, error] of cases) {
    test(name, () => {
      const got = messages(HTTPRouteSpecSchema.safeParse(spec));
      if (error === undefined) expect(got).toEqual([]);
      else expect(got.some((m) => error.test(m)), got.join(" | ")).toBe(true);
    });
  }
});

describe("GRPCRoute and Gateway CEL rules", () => {
  test("a gRPC service may start with a dot (a fully-qualified protobuf name)", () => {
    expect(messages(GRPCRouteSpecSchema.safeParse({ rules: [{ matches: [{ method: { service: ".pkg.Greeter" } }], ...backend }] }))).toEqual([]);
  });
  const listener = (l: object) => ({ gatewayClassName: "istio", listeners: [{ name: "l", port: 443, ...l }] });
  const cases: [string, object, RegExp | undefined][] = [
    ["HTTPS with certificates", listener({ protocol: "HTTPS", tls: { certificateRefs: [{ name: "cert" }] } }), undefined],
    ["TLS passthrough needs no certificates", listener({ protocol: "TLS", tls: { mode: "Passthrough" } }), undefined],
    ["Terminate with options only", listener({ protocol: "TLS", tls: { options: { "example.com/cert": "x" } } }), undefined],
    ["one address as IP and as hostname", { ...listener({ protocol: "HTTP" }), addresses: [{ value: "10.0.0.1" }, { type: "Hostname", value: "a.example" }] }, undefined],
    ["a hostname twice", { ...listener({ protocol: "HTTP" }), addresses: [{ type: "Hostname", value: "a.example" }, { type: "Hostname", value: "a.example" }] }, /Hostname values must be unique/],
    ["an address without a value (assigned by the implementation)", { ...listener({ protocol: "HTTP" }), addresses: [{ type: "IPAddress" }] }, undefined],
  ];
  for (const [name, spec, error] of cases) {
    test(name, () => {
      const got = messages(GatewaySpecSchema.safeParse(spec));
      if (error === undefined) expect(got).toEqual([]);
      else expect(got.some((m) => error.test(m)), got.join(" | ")).toBe(true);
    });
  }
});
