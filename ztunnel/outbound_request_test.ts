// Table tests for the outbound decision (istio/ztunnel's build_request): which
// protocol, which next hop, which :authority, which identity must answer.
import { expect, test } from "bun:test";
import { formatSpiffeId } from "../identity/mod.ts";
import type { DataPlaneSnapshot, GatewayAddress, Service, Workload } from "../xds/resources.ts";
import { reservedPortsOf } from "./destination_guard.ts";
import { RoundRobin } from "./load_balancer.ts";
import { type BuildRequestInput, type OutboundRequest, type RefusalReason, buildRequest } from "./outbound_request.ts";
import { ProxyState } from "./state.ts";
import { testService, testWorkload } from "../testing/resources.ts";

const NODE = "node-a";

function workload(name: string, namespace: string, over: Partial<Workload> = {}): Workload {
  return testWorkload(name, namespace, { serviceAccount: name.replace(/-\d+$/, ""), node: "node-b", ...over });
}

function service(name: string, namespace: string, vip: string | string[], over: Partial<Service> = {}): Service {
  const vips = (Array.isArray(vip) ? vip : [vip]).map((address) => ({ network: "", address }));
  return testService(name, namespace, { vips, ...over });
}

const key = (s: Service) => `${s.namespace}/${s.hostname}`;
const waypointAt = (address: string): GatewayAddress => ({ destination: { kind: "address", address: { network: "", address } }, hboneMtlsPort: 15008 });

// Services.
const echoSvc = service("echo", "echo", "10.96.0.10", { ports: { 80: 8000 } });
const fbSvc = service("fallback", "default", "10.96.0.11", { ports: { 80: 9090 } });
const sameSvc = service("same", "default", "10.96.0.12");
const sneakySvc = service("sneaky", "default", "10.96.0.18", { ports: { 80: 15080 } });
const downSvc = service("down", "default", "10.96.0.13", { ports: { 80: 8080 } });
const legacySvc = service("legacy", "legacy", "10.96.0.14", { ports: { 5432: 5433 } });
const localSvc = service("near", "default", "10.96.0.15", { ports: { 80: 8080 } });
const secureSvc = service("secure", "secure", "10.96.0.16", {
  ports: { 443: 8443 },
  subjectAltNames: ["spiffe://cluster.local/ns/secure/sa/backend", "not-a-spiffe-id"],
});
const reviewsSvc = service("reviews", "bookinfo", ["10.96.0.20", "fd00::20"], { ports: { 9080: 9080 }, waypoint: waypointAt("10.0.9.1") });
const waypointSvc = service("waypoint", "bookinfo", "10.96.0.21", { ports: { 15008: 15008 } });
const detailsSvc = service("details", "bookinfo", "10.96.0.22", {
  ports: { 9080: 9080 },
  waypoint: { destination: { kind: "hostname", namespace: "bookinfo", hostname: waypointSvc.hostname }, hboneMtlsPort: 15008 },
});
const emptySvc = service("empty", "default", "10.96.0.17", { ports: { 80: 8080 } });
const orphanSvc = service("orphan", "bookinfo", "10.96.0.23", { ports: { 80: 80 }, waypoint: waypointAt("10.0.99.99") });

// Workloads.
const client = workload("sleep", "default", { addresses: ["10.0.1.1"], node: NODE });
const localPod = workload("local-1", "default", { addresses: ["10.0.1.2"], node: NODE, services: { [key(localSvc)]: { 80: 8080 } } });
const echo1 = workload("echo-1", "echo", { addresses: ["10.0.2.1"], services: { [key(echoSvc)]: { 80: 8080 } } });
const echoSick = workload("echo-sick", "echo", { addresses: ["10.0.2.3"], status: "UNHEALTHY", services: { [key(echoSvc)]: { 80: 8080 } } });
const echo2 = workload("echo-2", "echo", { addresses: ["10.0.2.2"], node: "node-c", services: { [key(echoSvc)]: { 80: 8080 } } });
const fb1 = workload("fb-1", "default", { addresses: ["10.0.3.1"], services: { [key(fbSvc)]: {} } });
const same1 = workload("same-1", "default", { addresses: ["10.0.3.2"], services: { [key(sameSvc)]: {} } });
const sneaky1 = workload("sneaky-1", "default", { addresses: ["10.0.3.4"], services: { [key(sneakySvc)]: {} } });
const down1 = workload("down-1", "default", { addresses: ["10.0.3.3"], status: "UNHEALTHY", services: { [key(downSvc)]: { 80: 8080 } } });
const legacy1 = workload("legacy-1", "legacy", { addresses: ["10.0.4.1"], tunnelProtocol: "NONE", services: { [key(legacySvc)]: {} } });
const secure1 = workload("secure-1", "secure", { addresses: ["10.0.5.1"], services: { [key(secureSvc)]: {} } });
const waypoint = workload("waypoint", "bookinfo", { addresses: ["10.0.9.1"], services: { [key(waypointSvc)]: { 15008: 15008 } } });
const reviews1 = workload("reviews-1", "bookinfo", { addresses: ["10.0.6.1"], services: { [key(reviewsSvc)]: { 9080: 9080 } } });
const details1 = workload("details-1", "bookinfo", { addresses: ["10.0.6.2"], services: { [key(detailsSvc)]: { 9080: 9080 } } });
const ratings1 = workload("ratings-1", "bookinfo", { addresses: ["10.0.6.3"], waypoint: waypointAt("10.0.9.1") });

const snapshot: DataPlaneSnapshot = {
  workloads: [client, localPod, echo1, echoSick, echo2, fb1, same1, sneaky1, down1, legacy1, secure1, waypoint, reviews1, details1, ratings1],
  services: [echoSvc, fbSvc, sameSvc, sneakySvc, downSvc, legacySvc, localSvc, secureSvc, reviewsSvc, waypointSvc, detailsSvc, orphanSvc, emptySvc],
  policies: [],
};
const state = new ProxyState(snapshot);

/** A comparable view of a decision: addresses as "ip:port", identities as URIs. */
function summarize(r: OutboundRequest): Record<string, unknown> {
  if (r.protocol === "refused") return { protocol: r.protocol, reason: r.reason };
  const out: Record<string, unknown> = { protocol: r.protocol, target: `${r.target.address}:${r.target.port}` };
  if (r.protocol === "hbone") {
    out.hbone = `${r.hboneAddress.address}:${r.hboneAddress.port}`;
    out.identities = r.expectedIdentities.map(formatSpiffeId);
    out.viaWaypoint = r.viaWaypoint;
  }
  if (r.workload) out.workload = r.workload.name;
  if (r.service) out.service = r.service.name;
  return out;
}

const id = (ns: string, sa: string) => `spiffe://cluster.local/ns/${ns}/sa/${sa}`;

interface Row {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly source?: Workload;
  readonly allowPassthrough?: boolean;
  readonly choose?: (key: string, n: number) => number;
  readonly allowLinkLocal?: boolean;
  readonly want: Record<string, unknown>;
  /** For refusals: text the message must contain. */
  readonly message?: string;
}

const first = () => 0;

const rows: Row[] = [
  // --- services ---
  {
    name: "service by VIP: HBONE to the endpoint's :15008, :authority endpoint ip:targetPort from the workload's map",
    host: "10.96.0.10",
    port: 80,
    want: { protocol: "hbone", hbone: "10.0.2.1:15008", target: "10.0.2.1:8080", identities: [id("echo", "echo")], viaWaypoint: false, workload: "echo-1", service: "echo" },
  },
  {
    name: "service by hostname name.ns.svc.cluster.local",
    host: "echo.echo.svc.cluster.local",
    port: 80,
    want: { protocol: "hbone", hbone: "10.0.2.1:15008", target: "10.0.2.1:8080", identities: [id("echo", "echo")], viaWaypoint: false, workload: "echo-1", service: "echo" },
  },
  {
    name: "service by hostname name.ns.svc",
    host: "echo.echo.svc",
    port: 80,
    want: { protocol: "hbone", hbone: "10.0.2.1:15008", target: "10.0.2.1:8080", identities: [id("echo", "echo")], viaWaypoint: false, workload: "echo-1", service: "echo" },
  },
  {
    name: "service by hostname name.ns",
    host: "echo.echo",
    port: 80,
    want: { protocol: "hbone", hbone: "10.0.2.1:15008", target: "10.0.2.1:8080", identities: [id("echo", "echo")], viaWaypoint: false, workload: "echo-1", service: "echo" },
  },
  {
    name: "round robin: choose picks among HEALTHY endpoints only (index 1 is echo-2, not the unhealthy one)",
    host: "10.96.0.10",
    port: 80,
    choose: () => 1,
    want: { protocol: "hbone", hbone: "10.0.2.2:15008", target: "10.0.2.2:8080", identities: [id("echo", "echo")], viaWaypoint: false, workload: "echo-2", service: "echo" },
  },
  {
    name: "target port falls back to the service's ports when the workload's map lacks the port",
    host: "10.96.0.11",
    port: 80,
    want: { protocol: "hbone", hbone: "10.0.3.1:15008", target: "10.0.3.1:9090", identities: [id("default", "fb")], viaWaypoint: false, workload: "fb-1", service: "fallback" },
  },
  {
    name: "target port falls back to the same port when neither map has it",
    host: "10.96.0.12",
    port: 7070,
    want: { protocol: "hbone", hbone: "10.0.3.2:15008", target: "10.0.3.2:7070", identities: [id("default", "same")], viaWaypoint: false, workload: "same-1", service: "same" },
  },
  {
    name: "no healthy endpoint: refused no-endpoint naming ns/hostname:port",
    host: "10.96.0.13",
    port: 80,
    want: { protocol: "refused", reason: "no-endpoint" },
    message: "default/down.default.svc.cluster.local:80",
  },
  {
    name: "service with no endpoint at all, by hostname: refused no-endpoint",
    host: "empty.default.svc",
    port: 80,
    want: { protocol: "refused", reason: "no-endpoint" },
    message: "default/empty.default.svc.cluster.local:80",
  },
  {
    name: "service backed by a workload on this node: local",
    host: "10.96.0.15",
    port: 80,
    want: { protocol: "local", target: "10.0.1.2:8080", workload: "local-1", service: "near" },
  },
  {
    name: "service backed by a NONE (plain TCP) workload: passthrough to it, port mapped",
    host: "10.96.0.14",
    port: 5432,
    allowPassthrough: false,
    want: { protocol: "passthrough", target: "10.0.4.1:5433", workload: "legacy-1", service: "legacy" },
  },
  {
    name: "service subjectAltNames are added to the expected identities (invalid ones ignored)",
    host: "10.96.0.16",
    port: 443,
    want: {
      protocol: "hbone",
      hbone: "10.0.5.1:15008",
      target: "10.0.5.1:8443",
      identities: [id("secure", "secure"), id("secure", "backend")],
      viaWaypoint: false,
      workload: "secure-1",
      service: "secure",
    },
  },
  // --- workloads by IP ---
  {
    name: "workload IP on another node: HBONE to it, port unchanged",
    host: "10.0.2.1",
    port: 8080,
    want: { protocol: "hbone", hbone: "10.0.2.1:15008", target: "10.0.2.1:8080", identities: [id("echo", "echo")], viaWaypoint: false, workload: "echo-1" },
  },
  {
    name: "workload IP given as IPv4-mapped IPv6",
    host: "::ffff:10.0.2.1",
    port: 8080,
    want: { protocol: "hbone", hbone: "10.0.2.1:15008", target: "10.0.2.1:8080", identities: [id("echo", "echo")], viaWaypoint: false, workload: "echo-1" },
  },
  {
    name: "workload on the same node: local",
    host: "10.0.1.2",
    port: 80,
    want: { protocol: "local", target: "10.0.1.2:80", workload: "local-1" },
  },
  {
    name: "destination workload with tunnelProtocol NONE: passthrough to it (even with passthrough off)",
    host: "10.0.4.1",
    port: 5432,
    allowPassthrough: false,
    want: { protocol: "passthrough", target: "10.0.4.1:5432", workload: "legacy-1" },
  },
  // --- outside the mesh ---
  {
    name: "unknown IPv4, passthrough allowed",
    host: "203.0.113.7",
    port: 443,
    want: { protocol: "passthrough", target: "203.0.113.7:443" },
  },
  {
    name: "unknown IPv6, passthrough allowed",
    host: "2001:db8::7",
    port: 443,
    want: { protocol: "passthrough", target: "2001:db8::7:443" },
  },
  {
    name: "unknown IP, passthrough off: refused not-allowed",
    host: "203.0.113.7",
    port: 443,
    allowPassthrough: false,
    want: { protocol: "refused", reason: "not-allowed" },
    message: "203.0.113.7:443",
  },
  {
    name: "unknown hostname: refused unknown-host",
    host: "nope.example.com",
    port: 80,
    want: { protocol: "refused", reason: "unknown-host" },
    message: "nope.example.com",
  },
  {
    name: "unknown short hostname: refused unknown-host",
    host: "echo",
    port: 80,
    want: { protocol: "refused", reason: "unknown-host" },
  },
  {
    // Made only of hex digits and dots, but not an IP address.
    name: "unknown hostname spelt with hex letters (bad.cafe) is a hostname, not an IP: refused unknown-host",
    host: "bad.cafe",
    port: 80,
    want: { protocol: "refused", reason: "unknown-host" },
  },
  // --- the ztunnel's own ports (SelfCall) and link-local passthrough ---
  ...[15000, 15001, 15006, 15008, 15020, 15021, 15053, 15080].flatMap((port): Row[] => [
    { name: `reserved port ${port} on a service VIP: refused self-call`, host: "10.96.0.10", port, want: { protocol: "refused", reason: "self-call" }, message: String(port) },
    { name: `reserved port ${port} on another node's workload (borrowing its SOCKS5/HBONE): refused self-call`, host: "10.0.2.1", port, want: { protocol: "refused", reason: "self-call" } },
    { name: `reserved port ${port} on a same-node workload: refused self-call`, host: "10.0.1.2", port, want: { protocol: "refused", reason: "self-call" } },
    { name: `reserved port ${port} on an unknown IP (passthrough): refused self-call`, host: "203.0.113.7", port, want: { protocol: "refused", reason: "self-call" } },
  ]),
  {
    name: "a service whose target port is a reserved one (80 → 15080): refused self-call",
    host: "10.96.0.18",
    port: 80,
    want: { protocol: "refused", reason: "self-call" },
    message: "sneaky-1",
  },
  { name: "passthrough to the metadata service 169.254.169.254: refused link-local", host: "169.254.169.254", port: 80, want: { protocol: "refused", reason: "link-local" } },
  { name: "passthrough to IPv6 link-local: refused link-local", host: "fe80::1", port: 80, want: { protocol: "refused", reason: "link-local" } },
  {
    name: "passthrough to the metadata service with --passthrough-link-local: plain TCP",
    host: "169.254.169.254",
    port: 80,
    allowLinkLocal: true,
    want: { protocol: "passthrough", target: "169.254.169.254:80" },
  },
  // --- waypoints ---
  {
    name: "service waypoint (address): HBONE to the waypoint, :authority = service VIP:port, identity = waypoint's",
    host: "10.96.0.20",
    port: 9080,
    want: { protocol: "hbone", hbone: "10.0.9.1:15008", target: "10.96.0.20:9080", identities: [id("bookinfo", "waypoint")], viaWaypoint: true, service: "reviews" },
  },
  {
    name: "service waypoint reached by hostname: :authority = the service's VIP",
    host: "reviews.bookinfo.svc.cluster.local",
    port: 9080,
    want: { protocol: "hbone", hbone: "10.0.9.1:15008", target: "10.96.0.20:9080", identities: [id("bookinfo", "waypoint")], viaWaypoint: true, service: "reviews" },
  },
  {
    // ztunnel: "Use the original VIP, not translated" (destination: target).
    name: "service waypoint dialled by its second VIP: :authority = the VIP that was dialled",
    host: "fd00::20",
    port: 9080,
    want: { protocol: "hbone", hbone: "10.0.9.1:15008", target: "fd00::20:9080", identities: [id("bookinfo", "waypoint")], viaWaypoint: true, service: "reviews" },
  },
  {
    name: "the waypoint itself as source bypasses its own waypoint",
    host: "10.96.0.20",
    port: 9080,
    source: waypoint,
    want: { protocol: "hbone", hbone: "10.0.6.1:15008", target: "10.0.6.1:9080", identities: [id("bookinfo", "reviews")], viaWaypoint: false, workload: "reviews-1", service: "reviews" },
  },
  {
    name: "service waypoint (hostname): HBONE to a healthy endpoint of the waypoint service",
    host: "10.96.0.22",
    port: 9080,
    want: { protocol: "hbone", hbone: "10.0.9.1:15008", target: "10.96.0.22:9080", identities: [id("bookinfo", "waypoint")], viaWaypoint: true, service: "details" },
  },
  {
    name: "service waypoint (hostname): the waypoint as source goes direct",
    host: "10.96.0.22",
    port: 9080,
    source: waypoint,
    want: { protocol: "hbone", hbone: "10.0.6.2:15008", target: "10.0.6.2:9080", identities: [id("bookinfo", "details")], viaWaypoint: false, workload: "details-1", service: "details" },
  },
  {
    name: "service waypoint address that no workload has: refused no-waypoint",
    host: "10.96.0.23",
    port: 80,
    want: { protocol: "refused", reason: "no-waypoint" },
    message: "10.0.99.99",
  },
  {
    name: "workload-level waypoint: HBONE to the waypoint, :authority = workload ip:port",
    host: "10.0.6.3",
    port: 9080,
    want: { protocol: "hbone", hbone: "10.0.9.1:15008", target: "10.0.6.3:9080", identities: [id("bookinfo", "waypoint")], viaWaypoint: true, workload: "ratings-1" },
  },
  {
    name: "workload-level waypoint: the waypoint as source goes direct",
    host: "10.0.6.3",
    port: 9080,
    source: waypoint,
    want: { protocol: "hbone", hbone: "10.0.6.3:15008", target: "10.0.6.3:9080", identities: [id("bookinfo", "ratings")], viaWaypoint: false, workload: "ratings-1" },
  },
];

const reservedPorts = reservedPortsOf({ adminPort: 15000, metricsPort: 15020, readinessPort: 15021, hbonePort: 15008, plaintextPort: 15006, socksPort: 15080 });

function input(row: Pick<Row, "host" | "port" | "source" | "allowPassthrough" | "choose" | "allowLinkLocal">): BuildRequestInput {
  return {
    state,
    node: NODE,
    source: row.source ?? client,
    target: { host: row.host, port: row.port },
    allowPassthrough: row.allowPassthrough ?? true,
    destinationRules: { reservedPorts, allowLinkLocal: row.allowLinkLocal ?? false },
    choose: row.choose ?? first,
  };
}

for (const row of rows) {
  test(`buildRequest: ${row.name}`, () => {
    const r = buildRequest(input(row));
    expect(summarize(r)).toEqual(row.want);
    if (row.message !== undefined) {
      expect(r.protocol).toBe("refused");
      if (r.protocol === "refused") expect(r.message).toContain(row.message);
    }
  });
}

test("buildRequest: round robin goes through choose with the number of healthy endpoints", () => {
  const asked: number[] = [];
  let turn = 0;
  const picked: string[] = [];
  for (let i = 0; i < 4; i++) {
    const r = buildRequest(input({ host: "echo.echo", port: 80, choose: (_key, n) => (asked.push(n), turn++) }));
    if (r.protocol !== "hbone") throw new Error(`expected hbone, got ${r.protocol}`);
    picked.push(r.workload!.name);
  }
  expect(asked).toEqual([2, 2, 2, 2]);
  expect(picked).toEqual(["echo-1", "echo-2", "echo-1", "echo-2"]);
});

test("buildRequest: each service has its own turn, so two services called alternately both spread", () => {
  const lb = new RoundRobin();
  const keys: string[] = [];
  const picked: Record<string, string[]> = { echo: [], details: [] };
  for (let i = 0; i < 4; i++) {
    for (const [name, host, port] of [["echo", "echo.echo", 80], ["details", "10.96.0.22", 9080]] as const) {
      const r = buildRequest({ ...input({ host, port, source: waypoint }), choose: (k, n) => (keys.push(k), lb.choose(k, n)) });
      if (r.protocol !== "hbone") throw new Error(`expected hbone, got ${r.protocol}`);
      picked[name]!.push(r.workload!.name);
    }
  }
  expect([...new Set(keys)].sort()).toEqual(["bookinfo/details.bookinfo.svc.cluster.local", "echo/echo.echo.svc.cluster.local"]);
  expect(picked.echo).toEqual(["echo-1", "echo-2", "echo-1", "echo-2"]);
});

test("buildRequest: refusal reasons are the declared ones", () => {
  const reasons = new Set<RefusalReason>();
  for (const row of rows) {
    const r = buildRequest(input(row));
    if (r.protocol === "refused") reasons.add(r.reason);
  }
  expect([...reasons].sort()).toEqual(["link-local", "no-endpoint", "no-waypoint", "not-allowed", "self-call", "unknown-host"]);
});
