// Table tests for ProxyState's indexes: workloads by (network, address),
// services by VIP and hostname, endpoints, and the policies of a workload.
import { expect, test } from "bun:test";
import type { Authorization, AuthorizationScope, DataPlaneSnapshot, Service, Workload } from "../xds/resources.ts";
import { EMPTY_MATCH } from "../xds/resources.ts";
import { EMPTY_STATE, ProxyState } from "./state.ts";
import { testService, testWorkload } from "../testing/resources.ts";

function workload(name: string, over: Partial<Workload> = {}): Workload {
  return testWorkload(name, over.namespace ?? "default", over);
}

const service = testService;

function policy(namespace: string, name: string, scope: AuthorizationScope): Authorization {
  return { name, namespace, scope, action: "ALLOW", rules: [[[{ ...EMPTY_MATCH, destinationPorts: [80] }]]], dryRun: false };
}

const ECHO_KEY = "echo/echo.echo.svc.cluster.local";

const echo1 = workload("echo-1", { namespace: "echo", addresses: ["10.0.2.1", "fd00::2:1"], services: { [ECHO_KEY]: { 80: 8080 } } });
const echo2 = workload("echo-2", { namespace: "echo", addresses: ["10.0.2.2"], status: "UNHEALTHY", services: { [ECHO_KEY]: { 80: 8081 } }, node: "node-b" });
const remote = workload("remote-1", { namespace: "echo", addresses: ["10.0.2.1"], network: "net2", node: "node-r" });
const upper = workload("upper", { addresses: ["FD00::B"] });
const sleep = workload("sleep", {
  addresses: ["10.0.1.1"],
  authorizationPolicies: ["default/select-sleep", "default/ns-wide", "echo/select-from-echo", "default/missing"],
});

const echoSvc = service("echo", "echo", { vips: [{ network: "", address: "10.96.0.10" }, { network: "", address: "fd00::10" }], ports: { 80: 8080 } });
const remoteSvc = service("remote", "echo", { vips: [{ network: "net2", address: "10.96.0.20" }] });
const external = service("ext", "default", { hostname: "example.com", vips: [{ network: "", address: "10.96.0.30" }] });
const emptySvc = service("empty", "default", { vips: [{ network: "", address: "10.96.0.40" }] });

const globalPol = policy("istio-system", "global", "GLOBAL");
const nsDefault = policy("default", "ns-wide", "NAMESPACE");
const nsEcho = policy("echo", "ns-echo", "NAMESPACE");
const selectSleep = policy("default", "select-sleep", "WORKLOAD_SELECTOR");
const selectOther = policy("default", "select-other", "WORKLOAD_SELECTOR");
const selectFromEcho = policy("echo", "select-from-echo", "WORKLOAD_SELECTOR");

const snapshot: DataPlaneSnapshot = {
  workloads: [echo1, echo2, remote, upper, sleep],
  services: [echoSvc, remoteSvc, external, emptySvc],
  policies: [globalPol, nsDefault, nsEcho, selectSleep, selectOther, selectFromEcho],
};
const state = new ProxyState(snapshot);

// --- findWorkload ---
const workloadRows: { name: string; address: string; network?: string; want: Workload | undefined }[] = [
  { name: "v4 address on the default network", address: "10.0.2.1", want: echo1 },
  { name: "second address of a workload (v6)", address: "fd00::2:1", want: echo1 },
  { name: "v6 address in upper case", address: "FD00::2:1", want: echo1 },
  { name: "IPv4-mapped v6 address", address: "::ffff:10.0.2.1", want: echo1 },
  { name: "IPv4-mapped v6 address in upper case", address: "::FFFF:10.0.1.1", want: sleep },
  { name: "same IP on another network", address: "10.0.2.1", network: "net2", want: remote },
  { name: "IP known only on another network", address: "10.0.2.2", network: "net2", want: undefined },
  { name: "unknown IP", address: "10.0.9.9", want: undefined },
  { name: "a service VIP is not a workload", address: "10.96.0.10", want: undefined },
  { name: "unhealthy workloads are still found", address: "10.0.2.2", want: echo2 },
  // Addresses are normalised on lookup, so they must be normalised when indexed too.
  { name: "workload declared with an upper-case v6 address", address: "fd00::b", want: upper },
];
for (const row of workloadRows) {
  test(`findWorkload: ${row.name}`, () => {
    expect(state.findWorkload(row.address, row.network)).toBe(row.want);
  });
}

// --- findServiceByVip ---
const vipRows: { name: string; address: string; network?: string; want: Service | undefined }[] = [
  { name: "v4 VIP on the default network", address: "10.96.0.10", want: echoSvc },
  { name: "v6 VIP", address: "fd00::10", want: echoSvc },
  { name: "v6 VIP in upper case", address: "FD00::10", want: echoSvc },
  { name: "IPv4-mapped VIP", address: "::ffff:10.96.0.10", want: echoSvc },
  { name: "VIP looked up on the wrong network", address: "10.96.0.10", network: "net2", want: undefined },
  { name: "VIP on network net2", address: "10.96.0.20", network: "net2", want: remoteSvc },
  { name: "net2 VIP looked up on the default network", address: "10.96.0.20", want: undefined },
  { name: "a workload IP is not a VIP", address: "10.0.2.1", want: undefined },
];
for (const row of vipRows) {
  test(`findServiceByVip: ${row.name}`, () => {
    expect(state.findServiceByVip(row.address, row.network)).toBe(row.want);
  });
}

// --- findServiceByHostname ---
const hostRows: { name: string; host: string; want: Service | undefined }[] = [
  { name: "full hostname", host: "echo.echo.svc.cluster.local", want: echoSvc },
  { name: "name.ns.svc", host: "echo.echo.svc", want: echoSvc },
  { name: "name.ns", host: "echo.echo", want: echoSvc },
  { name: "upper case", host: "ECHO.Echo.SVC.cluster.local", want: echoSvc },
  { name: "trailing dot", host: "echo.echo.svc.cluster.local.", want: echoSvc },
  { name: "bare service name is not enough", host: "echo", want: undefined },
  { name: "name.ns.svc.cluster (partial domain)", host: "echo.echo.svc.cluster", want: undefined },
  { name: "wrong namespace", host: "echo.default", want: undefined },
  { name: "external hostname, exact", host: "example.com", want: external },
  { name: "external hostname gets no short aliases", host: "ext.default", want: undefined },
  { name: "unknown hostname", host: "nope.example.com", want: undefined },
];
for (const row of hostRows) {
  test(`findServiceByHostname: ${row.name}`, () => {
    expect(state.findServiceByHostname(row.host)).toBe(row.want);
  });
}

test("findServiceByHostname: aliases follow the cluster domain", () => {
  const api = service("api", "prod", { hostname: "api.prod.svc.corp.internal" });
  const s = new ProxyState({ workloads: [], services: [api], policies: [] }, "corp.internal");
  expect(s.findServiceByHostname("api.prod.svc.corp.internal")).toBe(api);
  expect(s.findServiceByHostname("api.prod.svc")).toBe(api);
  expect(s.findServiceByHostname("api.prod")).toBe(api);
  // With the default domain the short forms are not derived.
  const d = new ProxyState({ workloads: [], services: [api], policies: [] });
  expect(d.findServiceByHostname("api.prod")).toBeUndefined();
});

// --- findService, findWorkloadByUid ---
test("findService: by namespace and hostname", () => {
  expect(state.findService("echo", "echo.echo.svc.cluster.local")).toBe(echoSvc);
  expect(state.findService("default", "example.com")).toBe(external);
  expect(state.findService("default", "echo.echo.svc.cluster.local")).toBeUndefined();
  expect(state.findService("echo", "echo.echo")).toBeUndefined();
});

test("findWorkloadByUid", () => {
  expect(state.findWorkloadByUid("Kubernetes//v1/Pod/echo/echo-1")).toBe(echo1);
  expect(state.findWorkloadByUid("Kubernetes//v1/Pod/echo/nope")).toBeUndefined();
});

// --- endpointsOf ---
const endpointRows: { name: string; service: Service; want: { uid: string; ports: Record<number, number> }[] }[] = [
  {
    name: "healthy and unhealthy backers, with their port maps, in snapshot order",
    service: echoSvc,
    want: [{ uid: echo1.uid, ports: { 80: 8080 } }, { uid: echo2.uid, ports: { 80: 8081 } }],
  },
  { name: "a service nobody backs", service: emptySvc, want: [] },
  { name: "a service that is not in the snapshot", service: service("ghost", "default"), want: [] },
];
for (const row of endpointRows) {
  test(`endpointsOf: ${row.name}`, () => {
    expect(state.endpointsOf(row.service).map((e) => ({ uid: e.workload.uid, ports: e.ports }))).toEqual(row.want);
  });
}

test("servicesOf and workloadsOnNode", () => {
  expect(state.servicesOf(echo1)).toEqual([echoSvc]);
  expect(state.servicesOf(sleep)).toEqual([]);
  expect(state.servicesOf(workload("x", { services: { "default/unknown.example": {} } }))).toEqual([]);
  expect(state.workloadsOnNode("node-b").map((w) => w.name)).toEqual(["echo-2"]);
  expect(state.workloadsOnNode("node-a").map((w) => w.name)).toEqual(["echo-1", "upper", "sleep"]);
  expect(state.workloadsOnNode("nowhere")).toEqual([]);
});

// --- policiesFor ---
const keys = (ps: readonly Authorization[]) => ps.map((p) => `${p.namespace}/${p.name}`).sort();
const policyRows: { name: string; workload: Workload; want: string[] }[] = [
  {
    name: "global + own namespace + selector-listed (any namespace); unknown keys skipped, no duplicates",
    workload: sleep,
    want: ["default/ns-wide", "default/select-sleep", "echo/select-from-echo", "istio-system/global"],
  },
  {
    name: "workload in another namespace: global + that namespace only",
    workload: echo1,
    want: ["echo/ns-echo", "istio-system/global"],
  },
  {
    name: "selector-scoped policies not listed by the workload do not apply",
    workload: workload("plain", { addresses: ["10.0.1.9"] }),
    want: ["default/ns-wide", "istio-system/global"],
  },
  {
    name: "a namespace with no policies: global only",
    workload: workload("lonely", { namespace: "lonely" }),
    want: ["istio-system/global"],
  },
];
for (const row of policyRows) {
  test(`policiesFor: ${row.name}`, () => {
    const got = state.policiesFor(row.workload);
    expect(keys(got)).toEqual(row.want);
    expect(new Set(got).size).toBe(got.length);
  });
}

test("EMPTY_STATE knows nothing", () => {
  expect(EMPTY_STATE.findWorkload("10.0.0.1")).toBeUndefined();
  expect(EMPTY_STATE.findServiceByHostname("echo.echo")).toBeUndefined();
  expect(EMPTY_STATE.policiesFor(sleep)).toEqual([]);
});
