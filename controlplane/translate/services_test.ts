// Table tests for Services and ServiceEntries → Services: which are sent, their
// VIPs and ports, and their waypoint (istiod: ambient services.go, waypoints.go).
import { expect, test } from "bun:test";
import type { Condition, KubeObject } from "../../config/objects.ts";
import type { GatewayAddress, Service } from "../../xds/resources.ts";
import { AMBIENT, namespace, serviceEntry, service, waypoint, waypointPod } from "./_fixtures.ts";
import { translateServices } from "./services.ts";
import { vipAllocator } from "./vip_allocator.ts";

/** A fake allocator: "vip(<key>)", so a row shows which key was allocated. */
const fakeVip = (key: string) => `vip(${key})`;
const OPTIONS = { clusterDomain: "cluster.local", allocateVip: fakeVip };
const vip = (address: string) => ({ network: "", address });
const byHost = (hostname: string, ns = "default"): GatewayAddress => ({ destination: { kind: "hostname", namespace: ns, hostname }, hboneMtlsPort: 15008 });
const byIp = (address: string): GatewayAddress => ({ destination: { kind: "address", address: { network: "", address } }, hboneMtlsPort: 15008 });
const H = (name: string, ns = "default") => `${name}.${ns}.svc.cluster.local`;
const useWaypoint = (name: string) => ({ "istio.io/use-waypoint": name });
const WP = [waypoint("wp", { addresses: [{ value: "10.0.9.9" }] })];

interface Row {
  readonly name: string;
  readonly objects: readonly KubeObject[];
  /** Exactly these services ("namespace/hostname"), in this order. */
  readonly keys: readonly string[];
  readonly match?: Readonly<Record<string, Partial<Service>>>;
  readonly noWaypoint?: readonly string[];
  readonly warnings?: readonly RegExp[];
  /** WaypointBound condition by store key: status and reason. */
  readonly bound?: Readonly<Record<string, Pick<Condition, "status" | "reason">>>;
}

const rows: Row[] = [
  {
    name: "ClusterIP Service: every field; targetPort number, absent (= port), named (0); UDP left out",
    objects: [service("web", { ports: [{ port: 80, targetPort: 8080 }, { port: 81 }, { port: 82, targetPort: "http-alt" }, { port: 53, protocol: "UDP" }] })],
    keys: [`default/${H("web")}`],
    match: { [`default/${H("web")}`]: { name: "web", namespace: "default", hostname: H("web"), vips: [vip("10.96.0.10")], ports: { 80: 8080, 81: 81, 82: 0 }, subjectAltNames: [] } },
    noWaypoint: [`default/${H("web")}`],
  },
  {
    name: "Services without a selector and ExternalName are left out; NodePort and LoadBalancer are sent",
    objects: [service("a", { selector: {} }), service("b", { type: "ExternalName" }), service("c", { type: "NodePort" }), service("d", { type: "LoadBalancer" })],
    keys: [`default/${H("c")}`, `default/${H("d")}`],
  },
  { name: "headless Service: no VIP, none allocated", objects: [service("h", { clusterIP: "None" })], keys: [`default/${H("h")}`], match: { [`default/${H("h")}`]: { vips: [] } } },
  { name: "no clusterIP: a VIP allocated for its key", objects: [service("x", { clusterIP: null })], keys: [`default/${H("x")}`], match: { [`default/${H("x")}`]: { vips: [vip(`vip(default/${H("x")})`)] } } },
  { name: "dual-stack clusterIPs", objects: [service("d", { clusterIPs: ["10.96.0.11", "fd00:10::11"] })], keys: [`default/${H("d")}`], match: { [`default/${H("d")}`]: { vips: [vip("10.96.0.11"), vip("fd00:10::11")] } } },
  {
    name: "ServiceEntry MESH_INTERNAL: one Service per host, addresses as VIPs, ports, subjectAltNames",
    objects: [serviceEntry("db", {
      hosts: ["db.internal", "db.alt"], addresses: ["10.50.0.1/32", "10.60.0.0/16"], subjectAltNames: ["spiffe://cluster.local/ns/db/sa/db"],
      ports: [{ number: 5432, name: "tcp", targetPort: 5433 }, { number: 6432, name: "tcp2" }],
    })],
    keys: ["default/db.alt", "default/db.internal"],
    match: {
      "default/db.internal": { name: "db", hostname: "db.internal", vips: [vip("10.50.0.1")], ports: { 5432: 5433, 6432: 0 }, subjectAltNames: ["spiffe://cluster.local/ns/db/sa/db"] },
      "default/db.alt": { hostname: "db.alt", vips: [vip("10.50.0.1")] },
    },
  },
  {
    name: "ServiceEntry without addresses: a VIP per host",
    objects: [serviceEntry("api", { hosts: ["a.example", "b.example"] })],
    keys: ["default/a.example", "default/b.example"],
    match: { "default/a.example": { vips: [vip("vip(default/a.example)")] }, "default/b.example": { vips: [vip("vip(default/b.example)")] } },
  },
  {
    name: "MESH_EXTERNAL ServiceEntry: only with a workloadSelector",
    objects: [serviceEntry("ext", { location: "MESH_EXTERNAL" }), serviceEntry("vm", { location: "MESH_EXTERNAL", selector: { app: "vm" } })],
    keys: ["default/vm.example.com"],
  },
  {
    name: "inline spec.endpoints are not translated, with a warning",
    objects: [{ ...serviceEntry("inline"), spec: { ...(serviceEntry("inline").spec as object), endpoints: [{ address: "10.7.0.1" }] } }],
    keys: ["default/inline.example.com"], warnings: [/spec\.endpoints are not translated/],
  },
  {
    name: "a hostname already defined is ignored, with a warning",
    objects: [serviceEntry("a", { hosts: ["dup.example"] }), serviceEntry("b", { hosts: ["dup.example"] })],
    keys: ["default/dup.example"], match: { "default/dup.example": { name: "a" } }, warnings: [/dup\.example is already defined/],
  },
  // Waypoints.
  {
    name: "namespace use-waypoint: bound (waypoint-for defaults to service)",
    objects: [namespace("default", { ...AMBIENT, ...useWaypoint("wp") }), ...WP, service("web")],
    keys: [`default/${H("web")}`], match: { [`default/${H("web")}`]: { waypoint: byIp("10.0.9.9") } },
    bound: { "Service/default/web": { status: "True", reason: "WaypointAccepted" } },
  },
  {
    name: "Service use-waypoint label: bound",
    objects: [namespace("default"), ...WP, service("web", { labels: useWaypoint("wp") }), service("api")],
    keys: [`default/${H("api")}`, `default/${H("web")}`], match: { [`default/${H("web")}`]: { waypoint: byIp("10.0.9.9") } }, noWaypoint: [`default/${H("api")}`],
  },
  {
    name: "Service label none opts out of the namespace waypoint",
    objects: [namespace("default", useWaypoint("wp")), ...WP, service("web", { labels: useWaypoint("none") })],
    keys: [`default/${H("web")}`], noWaypoint: [`default/${H("web")}`],
  },
  {
    name: "Service label wins over the namespace label",
    objects: [namespace("default", useWaypoint("wp")), ...WP, waypoint("svc-wp", { waypointFor: "all", addresses: [{ value: "10.0.8.8" }] }), service("web", { labels: useWaypoint("svc-wp") })],
    keys: [`default/${H("web")}`], match: { [`default/${H("web")}`]: { waypoint: byIp("10.0.8.8") } },
  },
  {
    name: "waypoint-for workload does not take service traffic: not bound, False status",
    objects: [namespace("default", useWaypoint("wp")), waypoint("wp", { waypointFor: "workload", addresses: [{ value: "10.0.9.9" }] }), service("web")],
    keys: [`default/${H("web")}`], noWaypoint: [`default/${H("web")}`], warnings: [/does not accept service traffic/],
    bound: { "Service/default/web": { status: "False", reason: "UnsupportedTrafficType" } },
  },
  {
    name: "waypoint-for none takes nothing",
    objects: [namespace("default"), waypoint("wp", { waypointFor: "none", addresses: [{ value: "10.0.9.9" }] }), service("web", { labels: useWaypoint("wp") })],
    keys: [`default/${H("web")}`], noWaypoint: [`default/${H("web")}`], warnings: [/does not accept service traffic \(istio\.io\/waypoint-for: none\)/],
  },
  {
    name: "missing waypoint: not bound, WaypointIsNotReady",
    objects: [namespace("default"), service("web", { labels: useWaypoint("gone") })],
    keys: [`default/${H("web")}`], noWaypoint: [`default/${H("web")}`], warnings: [/default\/gone/],
    bound: { "Service/default/web": { status: "False", reason: "WaypointIsNotReady" } },
  },
  {
    name: "the waypoint's own Service is never bound; others reach the waypoint by its hostname",
    objects: [
      namespace("default", useWaypoint("wp")), waypoint("wp"), waypointPod("wp", "10.0.9.9"),
      service("wp", { selector: { "gateway.networking.k8s.io/gateway-name": "wp" }, ports: [{ port: 15008 }] }), service("web"),
    ],
    keys: [`default/${H("web")}`, `default/${H("wp")}`],
    match: { [`default/${H("web")}`]: { waypoint: byHost(H("wp")) } }, noWaypoint: [`default/${H("wp")}`],
  },
  {
    name: "ServiceEntry use-waypoint label, waypoint in another namespace",
    objects: [
      namespace("default"), namespace("infra"), waypoint("egress", { ns: "infra", waypointFor: "all", addresses: [{ value: "10.0.7.7" }] }),
      serviceEntry("ext", { labels: { ...useWaypoint("egress"), "istio.io/use-waypoint-namespace": "infra" } }),
    ],
    keys: ["default/ext.example.com"], match: { "default/ext.example.com": { waypoint: byIp("10.0.7.7") } },
    bound: { "ServiceEntry.networking.istio.io/default/ext": { status: "True", reason: "WaypointAccepted" } },
  },
];

for (const row of rows) {
  test(`services: ${row.name}`, () => {
    const got = translateServices(row.objects, OPTIONS);
    expect(got.services.map((s) => `${s.namespace}/${s.hostname}`)).toEqual([...row.keys]);
    const find = (k: string) => got.services.find((s) => `${s.namespace}/${s.hostname}` === k)!;
    for (const [k, want] of Object.entries(row.match ?? {})) {
      for (const [field, value] of Object.entries(want)) expect([k, field, find(k)[field as keyof Service]]).toEqual([k, field, value]);
    }
    for (const k of row.noWaypoint ?? []) expect(find(k).waypoint).toBeUndefined();
    const patterns = row.warnings ?? [];
    expect(got.warnings.length).toBe(patterns.length);
    for (const p of patterns) expect(got.warnings.some((w) => p.test(w.message))).toBe(true);
    for (const [key, want] of Object.entries(row.bound ?? {})) {
      expect(got.statuses.get(key)).toEqual([expect.objectContaining({ type: "istio.io/WaypointBound", ...want })]);
    }
  });
}

test("services: VIP allocation is deterministic whatever the object order", () => {
  const objects = [
    service("b", { clusterIP: null }), serviceEntry("se", { hosts: ["z.example", "a.example"] }), service("a", { clusterIP: null, ns: "other" }),
  ];
  const asked: string[] = [];
  const first = translateServices(objects, { clusterDomain: "cluster.local", allocateVip: vipAllocator() });
  const second = translateServices([...objects].reverse(), {
    clusterDomain: "cluster.local",
    allocateVip: (k) => (asked.push(k), vipAllocator()(k)),
  });
  expect(second.services).toEqual(first.services);
  expect(asked).toEqual([...asked].sort());
  expect(new Set(first.services.map((s) => s.vips[0]!.address)).size).toBe(4);
  for (const s of first.services) expect(s.vips[0]!.address).toMatch(/^240\.240\./);
});

test("services: a retained allocator keeps VIPs and frees those of removed services", () => {
  const allocate = vipAllocator("240.240.0.0/30"); // two usable addresses
  const a = service("a", { clusterIP: null });
  const b = service("b", { clusterIP: null });
  const c = service("c", { clusterIP: null });
  const before = translateServices([a, b], { clusterDomain: "cluster.local", allocateVip: allocate }).services;
  // b is gone: its VIP is free for c, and a keeps its own.
  const after = translateServices([a, c], { clusterDomain: "cluster.local", allocateVip: allocate });
  expect(after.warnings).toEqual([]);
  expect(after.services[0]!.vips).toEqual(before[0]!.vips);
  expect(after.services[1]!.vips).toEqual(before[1]!.vips);
  // Three at once do not fit: the last is sent without a VIP, with a warning.
  const full = translateServices([a, b, c], { clusterDomain: "cluster.local", allocateVip: allocate });
  expect(full.services.map((s) => s.vips.length)).toContain(0);
  expect(full.warnings[0]!.message).toMatch(/no VIP left in 240\.240\.0\.0\/30/);
});
