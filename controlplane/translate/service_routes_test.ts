import { expect, test } from "bun:test";
import type { KubeObject } from "../../config/objects.ts";
import type { ServiceRoutes } from "../../xds/waypoint_resources.ts";
import { AMBIENT, namespace, OPTIONS, pod, service, waypoint, waypointPod } from "./_fixtures.ts";
import { translate, vipAllocator } from "./mod.ts";

const HELLO = "default/hello.default.svc.cluster.local";
const host = (name: string, ns = "default") => `${ns}/${name}.${ns}.svc.cluster.local`;
const route = (name: string, spec: Record<string, unknown>, o: { ns?: string; kind?: string; created?: string } = {}): KubeObject => ({
  apiVersion: "gateway.networking.k8s.io/v1", kind: o.kind ?? "HTTPRoute",
  metadata: { name, namespace: o.ns ?? "default", ...(o.created ? { creationTimestamp: o.created } : {}) },
  spec,
});
const toHello = (extra: Record<string, unknown> = {}) => ({ group: "", kind: "Service", name: "hello", ...extra });
const backend = (name: string, weight?: number, extra: Record<string, unknown> = {}) => ({ name, port: 80, ...(weight !== undefined ? { weight } : {}), ...extra });
const svc = (name: string, labels: Record<string, string> = {}, ns = "default", annotations?: Record<string, string>) => {
  const s = service(name, { ns, labels, selector: { app: name } });
  return annotations ? { ...s, metadata: { ...s.metadata, annotations } } : s;
};
// A mesh with waypoint default/wp serving hello; hello-v1, hello-v2 are its versions' Services.
const base = (helloLabels: Record<string, string> = { "istio.io/use-waypoint": "wp" }): KubeObject[] => [
  namespace("default", AMBIENT), waypoint("wp"), waypointPod("wp", "10.0.9.9"),
  svc("hello", helloLabels), svc("hello-v1"), svc("hello-v2"), pod("hello-a", { labels: { app: "hello" } }),
];

interface Row {
  name: string;
  objects: KubeObject[];
  /** Expected ServiceRoutes (waypoint → service → check). */
  routes?: (all: readonly ServiceRoutes[]) => void;
  /** Route store key → [Accepted reason, ResolvedRefs reason] per parent. */
  status?: Record<string, [string, string][]>;
}

const key = (name: string, ns = "default") => `HTTPRoute.gateway.networking.k8s.io/${ns}/${name}`;
const rows: Row[] = [
  {
    name: "a 90/10 split: one rule, weighted backends resolved to service keys",
    objects: [...base(), route("split", { parentRefs: [toHello()], rules: [{ backendRefs: [backend("hello-v1", 90), backend("hello-v2", 10)] }] })],
    routes: (all) => {
      expect(all.map((r) => [r.waypoint, r.service])).toEqual([["default/wp", HELLO]]);
      const r = all[0]!;
      expect(r.protocols).toEqual({ 80: "HTTP" });
      expect(r.routes).toEqual([{ match: { path: { type: "PathPrefix", value: "/" }, headers: [], queryParams: [] }, rule: 0 }]);
      expect(r.rules[0]!.backends.map((b) => [b.backend, b.weight])).toEqual([
        [{ kind: "service", service: host("hello-v1"), port: 80 }, 90],
        [{ kind: "service", service: host("hello-v2"), port: 80 }, 10],
      ]);
      expect(r.rules[0]!.route).toEqual({ kind: "HTTPRoute", namespace: "default", name: "split", rule: 0 });
    },
    status: { [key("split")]: [["Accepted", "ResolvedRefs"]] },
  },
  {
    name: "precedence across routes: x-canary header in a newer route before the older catch-all",
    objects: [
      ...base(),
      route("split", { parentRefs: [toHello()], rules: [{ backendRefs: [backend("hello-v1", 90), backend("hello-v2", 10)] }] }, { created: "2026-01-01T00:00:00Z" }),
      route("canary", {
        parentRefs: [toHello()],
        rules: [{ matches: [{ headers: [{ name: "x-canary", value: "true" }] }], backendRefs: [backend("hello-v2")] }],
      }, { created: "2026-02-01T00:00:00Z" }),
    ],
    routes: (all) => {
      const r = all[0]!;
      expect(r.routes.map((e) => r.rules[e.rule]!.route.name)).toEqual(["canary", "split"]);
      expect(r.routes[0]!.match.headers).toEqual([{ type: "Exact", name: "x-canary", value: "true" }]);
      expect(r.rules[r.routes[0]!.rule]!.backends).toEqual([{ backend: { kind: "service", service: host("hello-v2"), port: 80 }, weight: 1, filters: [] }]);
    },
  },
  {
    name: "a missing backend: unresolved (500 for its share), ResolvedRefs BackendNotFound",
    objects: [...base(), route("r", { parentRefs: [toHello()], rules: [{ backendRefs: [backend("hello-v1", 50), backend("nope", 50)] }] })],
    routes: (all) => expect(all[0]!.rules[0]!.backends[1]!.backend).toEqual({ kind: "unresolved", reason: "backend Service default/nope not found" }),
    status: { [key("r")]: [["Accepted", "BackendNotFound"]] },
  },
  {
    name: "a backend port the Service lacks: BackendNotFound",
    objects: [...base(), route("r", { parentRefs: [toHello()], rules: [{ backendRefs: [backend("hello-v1", 1, { port: 81 })] }] })],
    status: { [key("r")]: [["Accepted", "BackendNotFound"]] },
  },
  {
    name: "a backend of another kind: InvalidKind",
    objects: [...base(), route("r", { parentRefs: [toHello()], rules: [{ backendRefs: [{ group: "example.com", kind: "Bucket", name: "b" }] }] })],
    routes: (all) => expect(all[0]!.rules[0]!.backends[0]!.backend.kind).toBe("unresolved"),
    status: { [key("r")]: [["Accepted", "InvalidKind"]] },
  },
  {
    name: "a backend in another namespace without a ReferenceGrant: RefNotPermitted",
    objects: [...base(), namespace("other"), svc("far", {}, "other"), route("r", { parentRefs: [toHello()], rules: [{ backendRefs: [backend("far", 1, { namespace: "other" })] }] })],
    status: { [key("r")]: [["Accepted", "RefNotPermitted"]] },
  },
  {
    name: "a backend in another namespace with a ReferenceGrant there: resolved",
    objects: [
      ...base(), namespace("other"), svc("far", {}, "other"),
      {
        apiVersion: "gateway.networking.k8s.io/v1beta1", kind: "ReferenceGrant", metadata: { name: "g", namespace: "other" },
        spec: { from: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", namespace: "default" }], to: [{ group: "", kind: "Service" }] },
      },
      route("r", { parentRefs: [toHello()], rules: [{ backendRefs: [backend("far", 1, { namespace: "other" })] }] }),
    ],
    routes: (all) => expect(all[0]!.rules[0]!.backends[0]!.backend).toEqual({ kind: "service", service: host("far", "other"), port: 80 }),
    status: { [key("r")]: [["Accepted", "ResolvedRefs"]] },
  },
  {
    name: "a Service no waypoint serves: not accepted (NoMatchingParent), no L7 config",
    objects: [...base({}), route("r", { parentRefs: [toHello()], rules: [{ backendRefs: [backend("hello-v1")] }] })],
    routes: (all) => expect(all).toEqual([]),
    status: { [key("r")]: [["NoMatchingParent", "ResolvedRefs"]] },
  },
  {
    name: "a parent Service that does not exist, and a port it lacks: NoMatchingParent",
    objects: [...base(), route("r", { parentRefs: [{ group: "", kind: "Service", name: "ghost" }, toHello({ port: 9999 })], rules: [{ backendRefs: [backend("hello-v1")] }] })],
    status: { [key("r")]: [["NoMatchingParent", "ResolvedRefs"], ["NoMatchingParent", "ResolvedRefs"]] },
  },
  {
    name: "Gateway parents are not the mesh's: no status written for them",
    objects: [...base(), route("r", { parentRefs: [{ name: "ingress" }], rules: [{ backendRefs: [backend("hello-v1")] }] })],
    status: {},
  },
  {
    name: "a route from another namespace than its Service (consumer route): refused",
    objects: [...base(), namespace("client"), route("r", { parentRefs: [toHello({ namespace: "default" })], rules: [{ backendRefs: [backend("hello-v1", 1, { namespace: "default" })] }] }, { ns: "client" })],
    status: { [key("r", "client")]: [["UnsupportedValue", "RefNotPermitted"]] },
  },
  {
    name: "allowedRoutes: a waypoint in another namespace takes routes from Same only by default: NotAllowedByListeners",
    objects: [
      namespace("default", AMBIENT), namespace("infra"), waypoint("wp", { ns: "infra" }), waypointPod("wp", "10.0.9.9", "infra"),
      svc("hello", { "istio.io/use-waypoint": "wp", "istio.io/use-waypoint-namespace": "infra" }), svc("hello-v1"),
      route("r", { parentRefs: [toHello()], rules: [{ backendRefs: [backend("hello-v1")] }] }),
    ],
    routes: (all) => {
      expect(all.map((r) => r.service)).toEqual([HELLO]);
      expect(all[0]!.routes).toEqual([]); // the Service is still served, by its default route
    },
    status: { [key("r")]: [["NotAllowedByListeners", "ResolvedRefs"]] },
  },
  {
    name: "allowedRoutes from All, and from a Selector matching the route's namespace: accepted; a kinds list without HTTPRoute: refused",
    objects: [
      namespace("default", { ...AMBIENT, team: "web" }), namespace("infra"),
      withListener(waypoint("all", { ns: "infra" }), { namespaces: { from: "All" } }), waypointPod("all", "10.0.9.1", "infra"),
      withListener(waypoint("sel", { ns: "infra" }), { namespaces: { from: "Selector", selector: { matchExpressions: [{ key: "team", operator: "In", values: ["web"] }] } } }),
      waypointPod("sel", "10.0.9.2", "infra"),
      withListener(waypoint("grpc-only", { ns: "infra" }), { namespaces: { from: "All" }, kinds: [{ kind: "GRPCRoute" }] }), waypointPod("grpc-only", "10.0.9.3", "infra"),
      svc("a", useIn("all")), svc("b", useIn("sel")), svc("c", useIn("grpc-only")), svc("hello-v1"),
      route("ra", { parentRefs: [{ group: "", kind: "Service", name: "a" }], rules: [{ backendRefs: [backend("hello-v1")] }] }),
      route("rb", { parentRefs: [{ group: "", kind: "Service", name: "b" }], rules: [{ backendRefs: [backend("hello-v1")] }] }),
      route("rc", { parentRefs: [{ group: "", kind: "Service", name: "c" }], rules: [{ backendRefs: [backend("hello-v1")] }] }),
    ],
    routes: (all) => expect(all.map((r) => [r.waypoint, r.routes.length])).toEqual([["infra/all", 1], ["infra/grpc-only", 0], ["infra/sel", 1]]),
    status: { [key("ra")]: [["Accepted", "ResolvedRefs"]], [key("rb")]: [["Accepted", "ResolvedRefs"]], [key("rc")]: [["NotAllowedByListeners", "ResolvedRefs"]] },
  },
  {
    name: "a canary waypoint: the Service's routes are in both waypoints' views",
    objects: [
      ...base().filter((o) => o.metadata.name !== "hello"), waypoint("wp2"), waypointPod("wp2", "10.0.9.8"),
      svc("hello", { "istio.io/use-waypoint": "wp", "istio.io/use-waypoint-canary": "wp2" }, "default", { "istio.io/use-waypoint-canary-weight": "20" }),
      route("r", { parentRefs: [toHello()], rules: [{ backendRefs: [backend("hello-v1")] }] }),
    ],
    routes: (all) => expect(all.map((r) => [r.waypoint, r.service, r.routes.length])).toEqual([["default/wp", HELLO, 1], ["default/wp2", HELLO, 1]]),
    status: { [key("r")]: [["Accepted", "ResolvedRefs"]] },
  },
  {
    name: "GRPCRoute: service and method become an Exact path; service alone a PathPrefix; grpc port named by appProtocol",
    objects: [
      ...base().filter((o) => o.metadata.name !== "hello"),
      { ...service("hello", { labels: { "istio.io/use-waypoint": "wp" }, selector: { app: "hello" }, ports: [{ name: "rpc", port: 50051, appProtocol: "grpc" }] }) },
      svc("hello-v1"),
      route("g", {
        parentRefs: [toHello()],
        rules: [
          { matches: [{ method: { service: "pkg.Greeter", method: "SayHello" } }], backendRefs: [backend("hello-v1")] },
          { matches: [{ method: { service: "pkg.Greeter" } }], backendRefs: [backend("hello-v1")] },
        ],
      }, { kind: "GRPCRoute" }),
    ],
    routes: (all) => {
      const r = all[0]!;
      expect(r.protocols).toEqual({ 50051: "GRPC" });
      expect(r.routes.map((e) => e.match.path)).toEqual([{ type: "Exact", value: "/pkg.Greeter/SayHello" }, { type: "PathPrefix", value: "/pkg.Greeter" }]);
      expect(r.rules.map((x) => x.route.kind)).toEqual(["GRPCRoute", "GRPCRoute"]);
    },
    status: { "GRPCRoute.gateway.networking.k8s.io/default/g": [["Accepted", "ResolvedRefs"]] },
  },
  {
    name: "parentRef port: the entries apply to that Service port only",
    objects: [...base(), route("r", { parentRefs: [toHello({ port: 80 })], rules: [{ backendRefs: [backend("hello-v1")] }] })],
    routes: (all) => expect(all[0]!.routes.map((e) => e.port)).toEqual([80]),
  },
  {
    name: "filters and timeouts are carried; an unsupported filter makes its rule answer 500",
    objects: [
      ...base(),
      route("r", {
        parentRefs: [toHello()],
        rules: [
          {
            matches: [{ path: { type: "PathPrefix", value: "/old" } }],
            filters: [{ type: "RequestRedirect", requestRedirect: { path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/new" }, statusCode: 301 } }],
          },
          {
            filters: [{ type: "RequestHeaderModifier", requestHeaderModifier: { set: [{ name: "x-a", value: "1" }], remove: ["x-b"] } }],
            backendRefs: [backend("hello-v1")], timeouts: { request: "1m30s", backendRequest: "500ms" }, retry: { codes: [503], attempts: 2, backoff: "100ms" },
          },
          { filters: [{ type: "ExtensionRef", extensionRef: { group: "x", kind: "Y", name: "z" } }], backendRefs: [backend("hello-v1")] },
        ],
      }),
    ],
    routes: (all) => {
      const [redirect, modified, broken] = all[0]!.rules;
      expect(redirect!.filters).toEqual([{ type: "RequestRedirect", requestRedirect: { path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/new" }, statusCode: 301 } }]);
      expect(redirect!.backends).toEqual([]);
      expect(modified!.filters).toEqual([{ type: "RequestHeaderModifier", requestHeaderModifier: { set: [{ name: "x-a", value: "1" }], add: [], remove: ["x-b"] } }]);
      expect(modified!.timeouts).toEqual({ requestMs: 90_000, backendRequestMs: 500 });
      expect(modified!.retry).toEqual({ codes: [503], attempts: 2, backoffMs: 100 });
      expect([broken!.filters, broken!.backends]).toEqual([[], []]);
    },
    status: { [key("r")]: [["Accepted", "InvalidKind"]] },
  },
];

function withListener(gw: KubeObject, allowedRoutes: unknown): KubeObject {
  const spec = gw.spec as { listeners: Record<string, unknown>[] };
  return { ...gw, spec: { ...spec, listeners: [{ ...spec.listeners[0], allowedRoutes }] } };
}
function useIn(name: string) {
  return { "istio.io/use-waypoint": name, "istio.io/use-waypoint-namespace": "infra" };
}

for (const row of rows) {
  test(`service routes: ${row.name}`, () => {
    const result = translate(row.objects, { ...OPTIONS, allocateVip: vipAllocator() });
    row.routes?.(result.serviceRoutes);
    if (row.status) {
      const got = Object.fromEntries([...result.routeStatuses].map(([k, parents]) => [k, parents.map((p) => p.conditions.map((c) => c.reason))]));
      expect(got).toEqual(row.status);
    }
  });
}

test("service routes: the same objects in another order give the same routes", () => {
  const objects = rows.flatMap((r) => r.objects).filter((o, i, all) => all.findIndex((x) => x.kind === o.kind && x.metadata.name === o.metadata.name && x.metadata.namespace === o.metadata.namespace) === i);
  const a = translate(objects, { ...OPTIONS, allocateVip: vipAllocator() });
  const b = translate([...objects].reverse(), { ...OPTIONS, allocateVip: vipAllocator() });
  expect(b.serviceRoutes).toEqual(a.serviceRoutes);
});
