import { expect, test } from "bun:test";
import { ConfigError } from "../../config/errors.ts";
import { parseMeshConfig } from "./mesh_config.ts";

const providers = `
extensionProviders:
- name: sample-ext-authz-http
  envoyExtAuthzHttp:
    service: ext-authz.foo.svc.cluster.local
    port: 8000
    includeRequestHeadersInCheck: ["x-ext-authz"]
- name: otel
  opentelemetry: { service: otel.svc, port: 4317 }
`;

test("envoyExtAuthzHttp providers with Istio's defaults; other provider kinds are skipped", () => {
  expect(parseMeshConfig("mesh.yaml", providers).extAuthzProviders).toEqual([{
    name: "sample-ext-authz-http", service: "ext-authz.foo.svc.cluster.local", port: 8000, pathPrefix: "", timeoutMs: 600, failOpen: false,
    statusOnError: 403, includeRequestHeadersInCheck: ["x-ext-authz"], includeAdditionalHeadersInCheck: {}, headersToUpstreamOnAllow: [],
    headersToDownstreamOnDeny: [], headersToDownstreamOnAllow: [],
  }]);
});

test("the same under meshConfig: (Helm / IstioOperator) and in the istio ConfigMap's data.mesh", () => {
  const helm = `meshConfig:\n${providers.split("\n").map((l) => `  ${l}`).join("\n")}`;
  expect(parseMeshConfig("values.yaml", helm).extAuthzProviders.map((p) => p.name)).toEqual(["sample-ext-authz-http"]);
  const configMap = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n${providers.split("\n").map((l) => `    ${l}`).join("\n")}`;
  expect(parseMeshConfig("istio.yaml", configMap).extAuthzProviders.map((p) => p.port)).toEqual([8000]);
});

test("a bad provider names the file and the field", () => {
  const bad = "extensionProviders:\n- name: x\n  envoyExtAuthzHttp: { service: a, port: 70000 }\n";
  try {
    parseMeshConfig("mesh.yaml", bad);
    throw new Error("accepted");
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toContain("mesh.yaml");
    expect((e as Error).message).toContain("extensionProviders[0].envoyExtAuthzHttp.port");
  }
});
