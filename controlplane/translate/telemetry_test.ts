import { expect, test } from "bun:test";
import type { KubeObject } from "../../config/objects.ts";
import { namespace, service, waypoint, waypointPod } from "./_fixtures.ts";
import { meshTracing } from "./_tracing_providers.ts";
import { translateTelemetry } from "./telemetry.ts";

const mesh = { tracingProviders: [{ name: "otel", endpoint: "http://otel.istio-system:4318/v1/traces" }, { name: "other", endpoint: "http://other:4318/v1/traces" }], defaultTracingProviders: ["otel"] };
const base: KubeObject[] = [
  namespace("default"),
  waypoint("wp"),
  waypointPod("wp", "10.0.0.9"),
  service("hello", { labels: { "istio.io/use-waypoint": "wp" } }),
  service("reviews", { labels: { "istio.io/use-waypoint": "wp" } }),
  service("plain"),
];
let n = 0;
const telemetry = (ns: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: "telemetry.istio.io/v1", kind: "Telemetry",
  metadata: { name: `t${++n}`, namespace: ns, creationTimestamp: `2026-01-01T00:00:${String(n).padStart(2, "0")}Z` }, spec,
});
const run = (...ts: KubeObject[]) => translateTelemetry([...base, ...ts], { clusterDomain: "cluster.local", rootNamespace: "istio-system", mesh });
const of = (r: ReturnType<typeof run>, svc: string) => r.byWaypoint.get("default/wp")?.find((t) => t.service === `default/${svc}.default.svc.cluster.local`);

const cases: [string, KubeObject[], { hello?: unknown; reviews?: unknown; warning?: string }][] = [
  ["no Telemetry: nothing sent", [], { hello: undefined }],
  ["mesh-wide in the root namespace, default provider and Istio's 1 %", [telemetry("istio-system", { tracing: [{}] })], {
    hello: { service: "default/hello.default.svc.cluster.local", tracing: { provider: mesh.tracingProviders[0], randomSamplingPercentage: 1, customTags: {} } },
  }],
  ["namespace overrides the percentage; a Service targetRef overrides again and adds a tag", [
    telemetry("istio-system", { tracing: [{ randomSamplingPercentage: 5, customTags: { a: { literal: { value: "1" } } } }] }),
    telemetry("default", { tracing: [{ randomSamplingPercentage: 10 }] }),
    telemetry("default", { targetRefs: [{ kind: "Service", group: "", name: "hello" }], tracing: [{ randomSamplingPercentage: 100, customTags: { b: { header: { name: "x-b", defaultValue: "-" } } } }] }),
  ], {
    hello: { service: "default/hello.default.svc.cluster.local", tracing: { provider: mesh.tracingProviders[0], randomSamplingPercentage: 100, customTags: { a: { literal: { value: "1" } }, b: { header: { name: "x-b", defaultValue: "-" } } } } },
    reviews: { service: "default/reviews.default.svc.cluster.local", tracing: { provider: mesh.tracingProviders[0], randomSamplingPercentage: 10, customTags: { a: { literal: { value: "1" } } } } },
  }],
  ["a Gateway targetRef covers every Service of the waypoint; providers by name", [
    telemetry("default", { targetRefs: [{ kind: "Gateway", group: "gateway.networking.k8s.io", name: "wp" }], tracing: [{ providers: [{ name: "other" }], randomSamplingPercentage: 50 }] }),
  ], {
    reviews: { service: "default/reviews.default.svc.cluster.local", tracing: { provider: mesh.tracingProviders[1], randomSamplingPercentage: 50, customTags: {} } },
  }],
  ["selector on the waypoint's gateway-name label", [
    telemetry("default", { selector: { matchLabels: { "gateway.networking.k8s.io/gateway-name": "wp" } }, tracing: [{ randomSamplingPercentage: 0 }] }),
  ], { hello: { service: "default/hello.default.svc.cluster.local", tracing: { provider: mesh.tracingProviders[0], randomSamplingPercentage: 0, customTags: {} } } }],
  ["disableSpanReporting turns a mesh default off; accessLogging disabled", [
    telemetry("istio-system", { tracing: [{ randomSamplingPercentage: 5 }] }),
    telemetry("default", { tracing: [{ disableSpanReporting: true }], accessLogging: [{ disabled: true }] }),
  ], { hello: { service: "default/hello.default.svc.cluster.local", accessLogging: false } }],
  ["metrics turned off for the waypoint's Services", [telemetry("default", { metrics: [{ overrides: [{ disabled: true }] }] })], { hello: { service: "default/hello.default.svc.cluster.local", metrics: false } }],
  ["an unknown provider: not traced, warned", [telemetry("default", { tracing: [{ providers: [{ name: "zipkin" }] }] })], {
    hello: { service: "default/hello.default.svc.cluster.local" }, warning: 'spec.tracing[0].providers[0].name: no opentelemetry extensionProvider named "zipkin"',
  }],
  ["unsupported fields are named", [telemetry("default", { tracing: [{ useRequestIdForTraceSampling: true }], metrics: [{ overrides: [{ match: { metric: "REQUEST_COUNT" }, disabled: true }] }] })], { warning: "spec.tracing[0].useRequestIdForTraceSampling is not supported" }],
  ["a workload selector is refused by name", [telemetry("default", { selector: { matchLabels: { app: "hello" } }, tracing: [{}] })], { hello: undefined, warning: "spec.selector: selects workloads' sidecars" }],
  ["a targetRef to a missing Service", [telemetry("default", { targetRefs: [{ kind: "Service", name: "nope" }], tracing: [{}] })], { warning: "spec.targetRefs[0]: Service default/nope not found" }],
];

for (const [name, objects, want] of cases) {
  test(`Telemetry: ${name}`, () => {
    const r = run(...objects);
    if ("hello" in want) expect(of(r, "hello")).toEqual(want.hello as never);
    if ("reviews" in want) expect(of(r, "reviews")).toEqual(want.reviews as never);
    if (want.warning) expect(r.warnings.map((w) => w.message).join("\n")).toContain(want.warning);
    else expect(r.warnings).toEqual([]);
    expect(r.byWaypoint.get("default/wp")?.some((t) => t.service.includes("plain")) ?? false).toBe(false);
  });
}

test("mesh config: opentelemetry providers become OTLP/HTTP endpoints; gRPC-only ones are warned about", () => {
  const m = meshTracing("mesh.yaml", {
    extensionProviders: [
      { name: "otel", opentelemetry: { service: "127.0.0.5", port: 4318, http: { path: "v1/traces" } } },
      { name: "grpc", opentelemetry: { service: "otel.istio-system.svc.cluster.local", port: 4317 } },
      { name: "authz", envoyExtAuthzHttp: { service: "a", port: 1 } },
    ],
    defaultProviders: { tracing: ["otel"] },
  });
  expect(m.tracingProviders).toEqual([
    { name: "otel", endpoint: "http://127.0.0.5:4318/v1/traces" },
    { name: "grpc", endpoint: "http://otel.istio-system.svc.cluster.local:4317/v1/traces" },
  ]);
  expect(m.defaultTracingProviders).toEqual(["otel"]);
  expect(m.warnings.join("\n")).toContain("extensionProviders[1].opentelemetry: gRPC export is not supported");
  expect(() => meshTracing("mesh.yaml", { extensionProviders: [{ name: "x", opentelemetry: { service: "a b", port: 1 } }] })).toThrow(/extensionProviders\[0\]\.opentelemetry\.service/);
});
