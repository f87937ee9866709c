// Table tests for the per-proxy views: what a waypoint's view holds, and that a ztunnel's has no L7 type.
import { expect, test } from "bun:test";
import { AMBIENT, namespace, OPTIONS, pod, service, waypoint, waypointPod } from "./translate/_fixtures.ts";
import { DataPlane } from "./dataplane.ts";
import type { KubeObject } from "../config/objects.ts";
import type { Workload } from "../xds/resources.ts";
import { SERVICE_ROUTES_TYPE_URL, TYPE_URLS } from "../xds/protocol.ts";
import { servicesReached } from "./proxy_views.ts";
import { EXT_AUTHZ_PROVIDER_TYPE_URL, SERVICE_L7_POLICY_TYPE_URL } from "../xds/l7_policy_resource_schemas.ts";

const route = (name: string, parent: string, backends: string[], mirror?: string): KubeObject => ({
  apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", metadata: { name, namespace: "default" },
  spec: {
    parentRefs: [{ group: "", kind: "Service", name: parent }],
    rules: [{
      backendRefs: backends.map((b) => ({ name: b, port: 80 })),
      ...(mirror ? { filters: [{ type: "RequestMirror", requestMirror: { backendRef: { name: mirror, port: 80 } } }] } : {}),
    }],
  },
});
const svc = (name: string, labels: Record<string, string> = {}) => service(name, { labels, selector: { app: name } });
const objects: KubeObject[] = [
  namespace("default", AMBIENT), waypoint("wp"), waypointPod("wp", "10.0.9.1"), waypoint("other"), waypointPod("other", "10.0.9.2"),
  svc("front", { "istio.io/use-waypoint": "wp" }), svc("back"), svc("shadow"), svc("unrelated"), svc("elsewhere", { "istio.io/use-waypoint": "other" }),
  pod("front-1", { ip: "10.0.1.1", labels: { app: "front" } }), pod("back-1", { ip: "10.0.1.2", labels: { app: "back" } }),
  pod("shadow-1", { ip: "10.0.1.3", labels: { app: "shadow" } }), pod("unrelated-1", { ip: "10.0.1.4", labels: { app: "unrelated" } }),
  route("front", "front", ["back"], "shadow"),
  {
    apiVersion: "security.istio.io/v1", kind: "RequestAuthentication", metadata: { name: "front-jwt", namespace: "default" },
    spec: { targetRefs: [{ kind: "Service", group: "", name: "front" }], jwtRules: [{ issuer: "https://issuer.example", jwksUri: "https://issuer.example/jwks" }] },
  },
];
const host = (n: string) => `default/${n}.default.svc.cluster.local`;
const extAuthz = {
  name: "ext-authz", service: "authz.default.svc.cluster.local", port: 8000, pathPrefix: "", timeoutMs: 1000, failOpen: false, statusOnError: 403,
  includeRequestHeadersInCheck: [], includeAdditionalHeadersInCheck: {}, headersToUpstreamOnAllow: [], headersToDownstreamOnDeny: [], headersToDownstreamOnAllow: [],
};
const dp = new DataPlane({
  ...OPTIONS, vipRange: "10.96.0.0/16", trustBundle: () => ["-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n"], extAuthzProviders: [extAuthz],
});
dp.update(objects);
const view = (wp?: string) => dp.desired({ id: "x", nodeName: "node-a", ...(wp ? { metadata: { role: "waypoint", waypoint: wp } } : {}) });
const names = (m: ReturnType<typeof view>, type: string) => [...(m.get(type as never)?.keys() ?? [])].sort();

const rows: { name: string; waypoint?: string; type: string; want: string[] }[] = [
  { name: "waypoint: the ServiceRoutes of the Services it serves, only", waypoint: "default/wp", type: SERVICE_ROUTES_TYPE_URL, want: [host("front")] },
  { name: "waypoint: served, routed-to and mirrored-to Services", waypoint: "default/wp", type: TYPE_URLS.service, want: [host("back"), host("front"), host("shadow")] },
  {
    name: "waypoint: their endpoints, and every other mesh workload as a caller", waypoint: "default/wp", type: TYPE_URLS.workload,
    want: ["back-1", "front-1", "other-abc", "shadow-1", "unrelated-1", "wp-abc"].map((p) => `cluster1//v1/Pod/default/${p}`),
  },
  { name: "waypoint: no L4 policies", waypoint: "default/wp", type: TYPE_URLS.authorization, want: [] },
  { name: "another waypoint: its own Service only", waypoint: "default/other", type: SERVICE_ROUTES_TYPE_URL, want: [host("elsewhere")] },
  { name: "an unknown waypoint: nothing", waypoint: "default/ghost", type: TYPE_URLS.service, want: [] },
  { name: "waypoint: the L7 security of the Services it serves", waypoint: "default/wp", type: SERVICE_L7_POLICY_TYPE_URL, want: [host("front")] },
  { name: "another waypoint: none of wp's L7 security", waypoint: "default/other", type: SERVICE_L7_POLICY_TYPE_URL, want: [] },
  { name: "waypoint: the mesh config's ext_authz providers", waypoint: "default/other", type: EXT_AUTHZ_PROVIDER_TYPE_URL, want: ["ext-authz"] },
  { name: "ztunnel: no L7 type at all", type: SERVICE_ROUTES_TYPE_URL, want: [] },
  { name: "ztunnel: no L7 security", type: SERVICE_L7_POLICY_TYPE_URL, want: [] },
  { name: "ztunnel: no ext_authz providers", type: EXT_AUTHZ_PROVIDER_TYPE_URL, want: [] },
  { name: "ztunnel: every Service", type: TYPE_URLS.service, want: ["back", "elsewhere", "front", "shadow", "unrelated"].map(host) },
];

for (const row of rows) {
  test(`proxy views: ${row.name}`, () => expect(names(view(row.waypoint), row.type)).toEqual(row.want));
}

test("proxy views: ztunnels share one map; a waypoint's view is built once per translation; an unrelated change keeps its versions", () => {
  expect(view()).toBe(view());
  expect(view("default/wp")).toBe(view("default/wp"));
  const before = view("default/wp");
  dp.update([...objects, svc("another")]);
  const after = view("default/wp");
  expect(after).not.toBe(before);
  for (const type of [SERVICE_ROUTES_TYPE_URL, TYPE_URLS.service, TYPE_URLS.workload]) {
    expect([...after.get(type as never)!].map(([n, r]) => `${n}@${r.version}`)).toEqual([...before.get(type as never)!].map(([n, r]) => `${n}@${r.version}`));
  }
  expect(names(view(), TYPE_URLS.service)).toContain(host("another"));
});

test("proxy views: a caller that is not an endpoint carries only the metadata a waypoint's metrics name it by", () => {
  const workloads = view("default/wp").get(TYPE_URLS.workload as never)!;
  const caller = workloads.get("cluster1//v1/Pod/default/unrelated-1")!.resource as Workload;
  expect(caller).toMatchObject({ name: "unrelated-1", namespace: "default", addresses: ["10.0.1.4"], services: {}, authorizationPolicies: [], node: "" });
  expect(caller.canonicalName).toBe("unrelated");
  expect(Object.keys((workloads.get("cluster1//v1/Pod/default/back-1")!.resource as Workload).services)).toContain(host("back"));
});

test("proxy views: a caller's Service membership or health changing leaves a waypoint's view as it was", () => {
  const before = view("default/wp").get(TYPE_URLS.workload as never)!.get("cluster1//v1/Pod/default/unrelated-1")!.version;
  dp.update([...objects, service("unrelated-too", { selector: { app: "unrelated" } })]);
  expect(view("default/wp").get(TYPE_URLS.workload as never)!.get("cluster1//v1/Pod/default/unrelated-1")!.version).toBe(before);
  dp.update(objects);
});

test("servicesReached: a route's backends and mirrors, unresolved ones left out", () => {
  expect([...servicesReached(dp.serviceRoutes.filter((r) => r.waypoint === "default/wp"))].sort()).toEqual([host("back"), host("front"), host("shadow")]);
});
