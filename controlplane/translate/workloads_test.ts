// Table tests for Pods and WorkloadEntries → Workloads: enrollment, skipping,
// health, names, the services they back, the policies that select them and
// their waypoint (istiod: ambient workloads.go, waypoints.go).
import { expect, test } from "bun:test";
import type { KubeObject } from "../../config/objects.ts";
import type { GatewayAddress, Workload } from "../../xds/resources.ts";
import {
  AMBIENT, authorizationPolicy, namespace, OPTIONS, peerAuthentication, pod, service, serviceEntry, waypoint, waypointPod, workloadEntry,
} from "./_fixtures.ts";
import { translateWorkloads } from "./workloads.ts";

const uid = (name: string, ns = "default") => `cluster1//v1/Pod/${ns}/${name}`;
const weUid = (name: string, ns = "default") => `cluster1/networking.istio.io/WorkloadEntry/${ns}/${name}`;
// The waypoint's identity is its Gateway's name as the service account.
const id = (name: string, ns = "default") => `spiffe://cluster.local/ns/${ns}/sa/${name}`;
const byIp = (address: string, identity = id("wp")): GatewayAddress => ({ destination: { kind: "address", address: { network: "", address } }, hboneMtlsPort: 15008, identity });
const byHost = (hostname: string, identity: string): GatewayAddress => ({ destination: { kind: "hostname", namespace: "default", hostname }, hboneMtlsPort: 15008, identity });
const AMBIENT_NS = namespace("default", AMBIENT);
const SVC_HOST = (name: string, ns = "default") => `${ns}/${name}.${ns}.svc.cluster.local`;
const useWaypoint = (name: string, extra: Record<string, string> = {}) => ({ ...AMBIENT, "istio.io/use-waypoint": name, ...extra });

interface Row {
  readonly name: string;
  readonly objects: readonly KubeObject[];
  /** Exactly these workloads, in this order. */
  readonly uids: readonly string[];
  /** Fields of some of them. */
  readonly match?: Readonly<Record<string, Partial<Workload>>>;
  /** Fields that must be absent. */
  readonly absent?: Readonly<Record<string, readonly (keyof Workload)[]>>;
  readonly warnings?: readonly RegExp[];
}

const rows: Row[] = [
  // Enrollment.
  {
    name: "enrolled by namespace label: every field",
    objects: [AMBIENT_NS, pod("sleep", { sa: "sleep", labels: { app: "sleep", version: "v2" } })],
    uids: [uid("sleep")],
    match: {
      [uid("sleep")]: {
        uid: uid("sleep"), name: "sleep", namespace: "default", addresses: ["10.0.0.1"], network: "", node: "node-a",
        serviceAccount: "sleep", trustDomain: "cluster.local", tunnelProtocol: "HBONE", status: "HEALTHY",
        canonicalName: "sleep", canonicalRevision: "v2", workloadName: "sleep", workloadType: "pod", clusterId: "cluster1",
        services: {}, authorizationPolicies: [],
      },
    },
    absent: { [uid("sleep")]: ["waypoint", "networkMode"] },
  },
  { name: "namespace without the label: not enrolled", objects: [namespace("default"), pod("a")], uids: [] },
  { name: "no Namespace object: not enrolled", objects: [pod("a")], uids: [] },
  { name: "enrolled by pod label", objects: [namespace("default"), pod("a", { labels: { app: "a", ...AMBIENT } }), pod("b")], uids: [uid("a")] },
  {
    name: "pod label none opts out of an ambient namespace",
    objects: [AMBIENT_NS, pod("a", { labels: { "istio.io/dataplane-mode": "none" } }), pod("b")],
    uids: [uid("b")],
  },
  { name: "a pod with a sidecar is not enrolled", objects: [AMBIENT_NS, pod("a", { annotations: { "sidecar.istio.io/status": "{}" } })], uids: [] },
  // Skipped pods.
  { name: "pod without an IP is skipped", objects: [AMBIENT_NS, pod("a", { ip: null }), pod("b")], uids: [uid("b")] },
  { name: "pod without a node is skipped", objects: [AMBIENT_NS, pod("a", { node: null }), pod("b")], uids: [uid("b")] },
  { name: "finished pod is skipped", objects: [AMBIENT_NS, pod("a", { phase: "Succeeded" }), pod("b", { phase: "Failed" })], uids: [] },
  { name: "podIPs (dual stack) win over podIP", objects: [AMBIENT_NS, pod("a", { ips: ["10.0.0.7", "fd00::7"] })], uids: [uid("a")], match: { [uid("a")]: { addresses: ["10.0.0.7", "fd00::7"] } } },
  // Health.
  { name: "Running, Ready False: UNHEALTHY", objects: [AMBIENT_NS, pod("a", { conditions: [{ type: "Ready", status: "False" }] })], uids: [uid("a")], match: { [uid("a")]: { status: "UNHEALTHY" } } },
  { name: "Running without conditions: HEALTHY", objects: [AMBIENT_NS, pod("a", { conditions: [] })], uids: [uid("a")], match: { [uid("a")]: { status: "HEALTHY" } } },
  { name: "Pending with an IP: sent, UNHEALTHY", objects: [AMBIENT_NS, pod("a", { phase: "Pending" })], uids: [uid("a")], match: { [uid("a")]: { status: "UNHEALTHY" } } },
  // Names.
  { name: "a capture annotation is carried to the ztunnel (docs/capture.md)", objects: [AMBIENT_NS, pod("a", { annotations: { "ambit.dev/capture-uid": "2001" } })], uids: [uid("a")], match: { [uid("a")]: { capture: { mode: "owner", uid: 2001 } } } },
  { name: "service account defaults to default; hostNetwork kept", objects: [AMBIENT_NS, pod("a", { hostNetwork: true })], uids: [uid("a")], match: { [uid("a")]: { serviceAccount: "default", networkMode: "HOST_NETWORK" } } },
  {
    name: "ReplicaSet suffix stripped with pod-template-hash: deployment",
    objects: [AMBIENT_NS, pod("reviews-v1-5b8f6c7d9-x2x4z", { labels: { "pod-template-hash": "5b8f6c7d9" } })],
    uids: [uid("reviews-v1-5b8f6c7d9-x2x4z")],
    match: { [uid("reviews-v1-5b8f6c7d9-x2x4z")]: { workloadName: "reviews-v1", workloadType: "deployment", canonicalName: "reviews-v1", canonicalRevision: "latest" } },
  },
  {
    name: "canonical labels win over app.kubernetes.io and app",
    objects: [AMBIENT_NS, pod("a", { labels: { "service.istio.io/canonical-name": "cn", "app.kubernetes.io/name": "k", app: "x", "service.istio.io/canonical-revision": "r1", "app.kubernetes.io/version": "v9" } })],
    uids: [uid("a")], match: { [uid("a")]: { canonicalName: "cn", canonicalRevision: "r1" } },
  },
  { name: "app.kubernetes.io labels win over app/version", objects: [AMBIENT_NS, pod("a", { labels: { "app.kubernetes.io/name": "k", app: "x", "app.kubernetes.io/version": "v9", version: "v1" } })], uids: [uid("a")], match: { [uid("a")]: { canonicalName: "k", canonicalRevision: "v9" } } },
  // Services the workload backs.
  {
    name: "Service ports: numeric, absent (= port) and named targetPort resolved from the container",
    objects: [
      AMBIENT_NS,
      pod("web", { ports: [{ name: "http-alt", containerPort: 9000 }] }),
      service("web", { ports: [{ port: 80, targetPort: 8080 }, { port: 81 }, { port: 82, targetPort: "http-alt" }, { port: 83, targetPort: "missing" }] }),
    ],
    uids: [uid("web")], match: { [uid("web")]: { services: { [SVC_HOST("web")]: { 80: 8080, 81: 81, 82: 9000 } } } },
  },
  {
    name: "Services that do not select: other namespace, empty selector, other labels, ExternalName",
    objects: [
      AMBIENT_NS, pod("web"),
      service("other-ns", { ns: "other", selector: { app: "web" } }),
      service("empty", { selector: {} }),
      service("labels", { selector: { app: "api" } }),
      service("ext", { type: "ExternalName", selector: { app: "web" } }),
      service("web"),
    ],
    uids: [uid("web")], match: { [uid("web")]: { services: { [SVC_HOST("web")]: { 80: 8080 } } } },
  },
  {
    name: "ServiceEntry workloadSelector: one key per host; port by name, else targetPort, else number",
    objects: [
      AMBIENT_NS, pod("db", { ports: [{ name: "tcp-main", containerPort: 5433 }] }),
      serviceEntry("db", {
        hosts: ["db.internal", "db.alt"], selector: { app: "db" },
        ports: [{ number: 5432, name: "tcp-main" }, { number: 6000, name: "x", targetPort: 6001 }, { number: 7000, name: "y" }],
      }),
    ],
    uids: [uid("db")],
    match: { [uid("db")]: { services: { "default/db.internal": { 5432: 5433, 6000: 6001, 7000: 7000 }, "default/db.alt": { 5432: 5433, 6000: 6001, 7000: 7000 } } } },
  },
  // WorkloadEntries.
  {
    name: "WorkloadEntry: uid, address, node label, network, merged spec labels, ports map",
    objects: [
      AMBIENT_NS,
      workloadEntry("vm1", { sa: "vm", network: "net2", specLabels: { app: "legacy" }, ports: { http: 8081, "tcp-db": 5500 } }),
      service("legacy", { ports: [{ name: "http", port: 80, targetPort: 8080 }, { name: "db", port: 5432, targetPort: "tcp-db" }] }),
      serviceEntry("legacy-se", { hosts: ["legacy.example"], selector: { app: "legacy" }, ports: [{ number: 8443, name: "http" }] }),
    ],
    uids: [weUid("vm1")],
    match: {
      [weUid("vm1")]: {
        name: "vm1", addresses: ["192.168.7.1"], node: "vm-node", network: "net2", serviceAccount: "vm", status: "HEALTHY",
        workloadName: "vm1", workloadType: "pod", canonicalName: "legacy",
        services: { [SVC_HOST("legacy")]: { 80: 8081, 5432: 5500 }, "default/legacy.example": { 8443: 8081 } },
      },
    },
  },
  {
    name: "WorkloadEntry without node label or with a hostname address: skipped, warned only when enrolled",
    objects: [AMBIENT_NS, workloadEntry("a", { node: null }), workloadEntry("b", { address: "vm.example.com" }), workloadEntry("c", { node: null, labels: { "istio.io/dataplane-mode": "none" } })],
    uids: [], warnings: [/ambit\.dev\/node/, /not an IP address/],
  },
  {
    name: "a WorkloadEntry's capture label (a VM's workload by its uid) is carried to the ztunnel",
    objects: [namespace("default"), workloadEntry("a", { labels: { ...AMBIENT, "ambit.dev/capture-uid": "3001" } })], uids: [weUid("a")],
    match: { [weUid("a")]: { capture: { mode: "owner", uid: 3001 } } },
  },
  { name: "WorkloadEntry enrolled by its own label", objects: [namespace("default"), workloadEntry("a", { labels: AMBIENT }), workloadEntry("b")], uids: [weUid("a")] },
  // Policies that select it.
  {
    name: "authorizationPolicies: selector policies of its namespace and of the root namespace only",
    objects: [
      AMBIENT_NS, pod("a", { labels: { app: "a" } }),
      authorizationPolicy("same-ns", "default", { selector: { matchLabels: { app: "a" } } }),
      authorizationPolicy("root", "istio-system", { selector: { matchLabels: { app: "a" } } }),
      authorizationPolicy("other-ns", "other", { selector: { matchLabels: { app: "a" } } }),
      authorizationPolicy("no-match", "default", { selector: { matchLabels: { app: "b" } } }),
      authorizationPolicy("ns-wide", "default", {}),
      authorizationPolicy("audit", "default", { action: "AUDIT", selector: { matchLabels: { app: "a" } } }),
      authorizationPolicy("waypoint", "default", { targetRefs: [{ kind: "Service", name: "a" }], selector: { matchLabels: { app: "a" } } }),
    ],
    uids: [uid("a")], match: { [uid("a")]: { authorizationPolicies: ["default/same-ns", "istio-system/root"] } },
  },
  {
    name: "PeerAuthentication STRICT for the mesh: the static strict policy",
    objects: [AMBIENT_NS, pod("a"), peerAuthentication("default", "istio-system", "STRICT")],
    uids: [uid("a")], match: { [uid("a")]: { authorizationPolicies: ["istio-system/istio_converted_static_strict"] } },
  },
  {
    name: "PeerAuthentication: namespace PERMISSIVE overrides mesh STRICT, a workload STRICT overrides that",
    objects: [
      AMBIENT_NS, pod("a"), pod("b", { ip: "10.0.0.2" }),
      peerAuthentication("mesh", "istio-system", "STRICT"), peerAuthentication("ns", "default", "PERMISSIVE"),
      peerAuthentication("wl", "default", "STRICT", { app: "b" }),
    ],
    uids: [uid("a"), uid("b")],
    match: { [uid("a")]: { authorizationPolicies: [] }, [uid("b")]: { authorizationPolicies: ["istio-system/istio_converted_static_strict"] } },
  },
  // Waypoints.
  {
    name: "namespace use-waypoint with waypoint-for workload: bound to the waypoint pod's IP",
    objects: [namespace("default", useWaypoint("wp")), waypoint("wp", { waypointFor: "workload" }), waypointPod("wp", "10.0.9.9"), pod("a")],
    uids: [uid("a"), uid("wp-abc")], match: { [uid("a")]: { waypoint: byIp("10.0.9.9") } }, absent: { [uid("wp-abc")]: ["waypoint"] },
  },
  {
    name: "namespace waypoint for services (the default) does not bind workloads, silently",
    objects: [namespace("default", useWaypoint("wp")), waypoint("wp"), waypointPod("wp", "10.0.9.9"), pod("a")],
    uids: [uid("a"), uid("wp-abc")], absent: { [uid("a")]: ["waypoint"] },
  },
  {
    name: "workload label naming a service-only waypoint: not bound, warned",
    objects: [AMBIENT_NS, waypoint("wp", { waypointFor: "service" }), waypointPod("wp", "10.0.9.9"), pod("a", { labels: useWaypoint("wp") })],
    uids: [uid("a"), uid("wp-abc")], absent: { [uid("a")]: ["waypoint"] }, warnings: [/does not accept workload traffic/],
  },
  {
    name: "waypoint-for all binds workloads; use-waypoint none on the workload opts out",
    objects: [
      namespace("default", useWaypoint("wp")), waypoint("wp", { waypointFor: "all" }), waypointPod("wp", "10.0.9.9"),
      pod("a"), pod("b", { ip: "10.0.0.2", labels: { "istio.io/use-waypoint": "none" } }),
    ],
    uids: [uid("a"), uid("b"), uid("wp-abc")], match: { [uid("a")]: { waypoint: byIp("10.0.9.9") } }, absent: { [uid("b")]: ["waypoint"] },
  },
  {
    name: "workload label wins over the namespace label; use-waypoint-namespace points elsewhere",
    objects: [
      namespace("default", useWaypoint("ns-wp")), namespace("infra"),
      waypoint("ns-wp", { waypointFor: "all", addresses: [{ value: "10.1.1.1" }] }),
      waypoint("shared", { ns: "infra", waypointFor: "workload", addresses: [{ type: "IPAddress", value: "10.2.2.2" }] }),
      pod("a", { labels: { "istio.io/use-waypoint": "shared", "istio.io/use-waypoint-namespace": "infra" } }),
    ],
    uids: [uid("a")], match: { [uid("a")]: { waypoint: byIp("10.2.2.2", id("shared", "infra")) } },
  },
  {
    name: "waypoint address: published hostname, then a Service named like it; custom HBONE port",
    objects: [
      AMBIENT_NS,
      waypoint("by-status", { waypointFor: "workload", addresses: [{ type: "IPAddress", value: "10.3.3.3" }, { type: "Hostname", value: "by-status.default.svc.cluster.local" }] }),
      waypoint("by-svc", { waypointFor: "workload", port: 15108 }), service("by-svc", { selector: { "gateway.networking.k8s.io/gateway-name": "by-svc" } }),
      pod("a", { labels: useWaypoint("by-status") }), pod("b", { ip: "10.0.0.2", labels: useWaypoint("by-svc") }),
    ],
    uids: [uid("a"), uid("b")],
    match: {
      [uid("a")]: { waypoint: byHost("by-status.default.svc.cluster.local", id("by-status")) },
      [uid("b")]: { waypoint: { ...byHost("by-svc.default.svc.cluster.local", id("by-svc")), hboneMtlsPort: 15108 } },
    },
  },
  {
    name: "missing or not-ready waypoint: not bound, warned",
    objects: [AMBIENT_NS, waypoint("idle", { waypointFor: "workload" }), pod("a", { labels: useWaypoint("gone") }), pod("b", { ip: "10.0.0.2", labels: useWaypoint("idle") })],
    uids: [uid("a"), uid("b")], absent: { [uid("a")]: ["waypoint"], [uid("b")]: ["waypoint"] },
    warnings: [/default\/gone .*does not exist/, /default\/idle is not ready/],
  },
  {
    name: "a Gateway of another class is no waypoint",
    objects: [AMBIENT_NS, waypoint("gw", { waypointFor: "workload", className: "istio", addresses: [{ value: "10.1.1.1" }] }), pod("a", { labels: useWaypoint("gw") })],
    uids: [uid("a")], absent: { [uid("a")]: ["waypoint"] }, warnings: [/does not exist/],
  },
  {
    name: "waypoint pods speak HBONE themselves: sent though their namespace is not enrolled",
    objects: [namespace("infra"), waypoint("wp", { ns: "infra" }), waypointPod("wp", "10.0.9.9", "infra"), pod("other", { ns: "infra" })],
    uids: [uid("wp-abc", "infra")], match: { [uid("wp-abc", "infra")]: { tunnelProtocol: "HBONE", nativeTunnel: true, addresses: ["10.0.9.9"] } },
  },
];

for (const row of rows) {
  test(`workloads: ${row.name}`, () => {
    const got = translateWorkloads(row.objects, OPTIONS);
    expect(got.workloads.map((w) => w.uid)).toEqual([...row.uids]);
    const find = (u: string) => got.workloads.find((w) => w.uid === u)!;
    for (const [u, want] of Object.entries(row.match ?? {})) {
      for (const [field, value] of Object.entries(want)) expect([u, field, find(u)[field as keyof Workload]]).toEqual([u, field, value]);
    }
    for (const [u, fields] of Object.entries(row.absent ?? {})) for (const f of fields) expect(find(u)[f]).toBeUndefined();
    const patterns = row.warnings ?? [];
    expect(got.warnings.length).toBe(patterns.length);
    for (const p of patterns) expect(got.warnings.some((w) => p.test(w.message))).toBe(true);
  });
}
