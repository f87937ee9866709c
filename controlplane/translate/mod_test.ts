// translate(): the pieces joined into one snapshot, with statuses keyed by
// store key, warnings without duplicates, and Istio's static STRICT policy.
import { expect, test } from "bun:test";
import type { KubeObject } from "../../config/objects.ts";
import { EMPTY_MATCH, type GatewayAddress } from "../../xds/resources.ts";
import {
  AMBIENT, authorizationPolicy, namespace, OPTIONS, peerAuthentication, pod, service, serviceEntry, waypoint, waypointPod,
} from "./_fixtures.ts";
import { translate, vipAllocator } from "./mod.ts";

const P = "cluster.local/ns/default/sa/sleep";
const mesh: KubeObject[] = [
  namespace("default", AMBIENT),
  namespace("shop", { ...AMBIENT, "istio.io/use-waypoint": "missing" }),
  pod("sleep", { sa: "sleep" }),
  pod("web", { ip: "10.0.0.2", ports: [{ name: "http", containerPort: 8080 }] }),
  pod("cart-1", { ns: "shop", ip: "10.0.1.1", labels: { app: "cart" } }),
  pod("cart-2", { ns: "shop", ip: "10.0.1.2", labels: { app: "cart" } }),
  service("web", { ports: [{ port: 80, targetPort: "http" }] }),
  serviceEntry("ext", { hosts: ["ext.example"] }),
  authorizationPolicy("allow-sleep", "default", { selector: { matchLabels: { app: "web" } }, rules: [{ from: [{ source: { principals: [P] } }] }] }),
  authorizationPolicy("http-only", "default", { rules: [{ to: [{ operation: { methods: ["GET"] } }] }] }),
  authorizationPolicy("audit", "default", { action: "AUDIT" }),
  authorizationPolicy("to-waypoint", "default", { targetRefs: [{ kind: "Gateway", group: "gateway.networking.k8s.io", name: "wp" }] }),
  peerAuthentication("strict", "shop", "STRICT"),
  peerAuthentication("ports", "default", "PERMISSIVE", { app: "web" }, { portLevelMtls: { 8080: { mode: "STRICT" } } }),
];

test("translate: one snapshot, sorted, with every piece", () => {
  const { snapshot } = translate(mesh, { ...OPTIONS, allocateVip: vipAllocator() });
  expect(snapshot.workloads.map((w) => w.name)).toEqual(["sleep", "web", "cart-1", "cart-2"]);
  expect(snapshot.services.map((s) => s.hostname)).toEqual(["ext.example", "web.default.svc.cluster.local"]);
  expect(snapshot.policies.map((p) => `${p.namespace}/${p.name}`)).toEqual([
    "default/allow-sleep", "default/http-only", "istio-system/istio_converted_static_strict",
  ]);
  const web = snapshot.workloads.find((w) => w.name === "web")!;
  expect(web.services).toEqual({ "default/web.default.svc.cluster.local": { 80: 8080 } });
  expect(web.authorizationPolicies).toEqual(["default/allow-sleep"]);
  const cart = snapshot.workloads.find((w) => w.name === "cart-1")!;
  expect(cart.authorizationPolicies).toEqual(["istio-system/istio_converted_static_strict"]);
  expect(snapshot.policies.find((p) => p.name === "istio_converted_static_strict")).toEqual({
    name: "istio_converted_static_strict", namespace: "istio-system", scope: "WORKLOAD_SELECTOR", action: "DENY", dryRun: false,
    rules: [[[{ ...EMPTY_MATCH, notPrincipals: [{ presence: true }] }]]],
  });
  expect(snapshot.policies.find((p) => p.name === "http-only")!.rules).toEqual([]);
  expect(snapshot.services.find((s) => s.hostname === "ext.example")!.vips[0]!.address).toMatch(/^240\.240\./);
});

test("translate: statuses by store key, warnings once per object and problem", () => {
  const { statuses, warnings } = translate(mesh, { ...OPTIONS, allocateVip: vipAllocator() });
  expect(statuses.get("AuthorizationPolicy.security.istio.io/default/allow-sleep")).toEqual([{ type: "Accepted", status: "True", reason: "Accepted", message: "attached to ztunnel" }]);
  expect(statuses.get("AuthorizationPolicy.security.istio.io/default/http-only")![0]).toMatchObject({ status: "True", reason: "UnsupportedValue" });
  expect(statuses.get("AuthorizationPolicy.security.istio.io/default/audit")![0]).toMatchObject({ status: "False", reason: "UnsupportedValue" });
  expect(statuses.has("AuthorizationPolicy/default/to-waypoint")).toBe(false);
  const text = warnings.map((w) => `${w.object}: ${w.message}`);
  expect(text).toEqual([
    expect.stringMatching(/^AuthorizationPolicy default\/audit: action AUDIT is not supported at L4/),
    expect.stringMatching(/^AuthorizationPolicy default\/http-only: .*methods/),
    expect.stringMatching(/^PeerAuthentication default\/ports: portLevelMtls is not supported/),
    // Both cart pods inherit the namespace's missing waypoint: told once, on the namespace.
    expect.stringMatching(/^Namespace shop: waypoint shop\/missing .*does not exist/),
    // The waypoint's own policy: its Gateway serves no Service here, so nothing enforces it.
    expect.stringMatching(/^AuthorizationPolicy default\/to-waypoint: targetRefs: Gateway default\/wp is not a waypoint serving any Service/),
  ]);
});

test("translate: the same objects in another order give the same result", () => {
  const a = translate(mesh, { ...OPTIONS, allocateVip: vipAllocator() });
  const b = translate([...mesh].reverse(), { ...OPTIONS, allocateVip: vipAllocator() });
  expect(b.snapshot).toEqual(a.snapshot);
  expect(b.warnings).toEqual(a.warnings);
});

test("translate: a waypoint's pod, Service and bound workloads fit together", () => {
  const objects = [
    namespace("default", { ...AMBIENT, "istio.io/use-waypoint": "wp" }),
    waypoint("wp", { waypointFor: "all" }), waypointPod("wp", "10.0.9.9"),
    service("wp", { selector: { "gateway.networking.k8s.io/gateway-name": "wp" }, ports: [{ port: 15008 }] }),
    pod("web", { ip: "10.0.0.2" }), service("web"),
  ];
  const { snapshot, warnings } = translate(objects, { ...OPTIONS, allocateVip: vipAllocator() });
  expect(warnings).toEqual([]);
  const address: GatewayAddress = { destination: { kind: "hostname", namespace: "default", hostname: "wp.default.svc.cluster.local" }, hboneMtlsPort: 15008, identity: "spiffe://cluster.local/ns/default/sa/wp" };
  expect(snapshot.services.find((s) => s.name === "web")!.waypoint).toEqual(address);
  expect(snapshot.services.find((s) => s.name === "wp")!.waypoint).toBeUndefined();
  expect(snapshot.workloads.find((w) => w.name === "web")!.waypoint).toEqual(address);
  const instance = snapshot.workloads.find((w) => w.name === "wp-abc")!;
  expect(instance.waypoint).toBeUndefined();
  expect(instance.nativeTunnel).toBe(true);
  expect(instance.services).toEqual({ "default/wp.default.svc.cluster.local": { 15008: 15008 } });
});
