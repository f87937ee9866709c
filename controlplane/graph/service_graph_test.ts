import { expect, test } from "bun:test";
import type { MetricSample } from "../../telemetry/prometheus_text.ts";
import { histogramQuantile } from "./histogram_quantile.ts";
import { serviceGraph } from "./service_graph.ts";

const HOST = "hello.demo.svc.cluster.local";
const sleep = { source_workload: "sleep", source_workload_namespace: "demo", source_canonical_service: "sleep", source_principal: "spiffe://cluster.local/ns/demo/sa/sleep" };
const v1 = { destination_workload: "hello-v1", destination_workload_namespace: "demo", destination_canonical_service: "hello", destination_canonical_revision: "v1" };
const v2 = { destination_workload: "hello-v2", destination_workload_namespace: "demo", destination_canonical_service: "hello", destination_canonical_revision: "v2" };
const hello = { destination_service: HOST, destination_service_name: "hello", destination_service_namespace: "demo" };
const wpTarget = { role: "waypoint", app: "wp", namespace: "demo" };
const mtls = { connection_security_policy: "mutual_tls" };
const s = (name: string, value: number, ...labels: Record<string, string>[]): MetricSample => ({ name, value, labels: Object.assign({}, ...labels) });

// Each row: what the data plane reported (as per-second rates), and the edges it must draw.
const rows: { name: string; samples: MetricSample[]; waypoints?: string[]; waypointServices?: string[]; edges: Record<string, Partial<Record<string, unknown>>> }[] = [
  {
    name: "L4 only: one edge pair per flow, from the destination's report (the source's is the same bytes)",
    samples: [
      s("istio_tcp_sent_bytes_total", 100, { reporter: "destination" }, sleep, hello, v1, mtls),
      s("istio_tcp_received_bytes_total", 20, { reporter: "destination" }, sleep, hello, v1, mtls),
      s("istio_tcp_connections_opened_total", 2, { reporter: "destination" }, sleep, hello, v1, mtls),
      s("istio_tcp_sent_bytes_total", 100, { reporter: "source" }, sleep, hello, v1, mtls),
      s("istio_tcp_connections_opened_total", 2, { reporter: "source" }, sleep, hello, v1, mtls),
    ],
    edges: {
      [`workload:demo/sleep->service:${HOST}:tcp`]: { bytesPerSecond: 120, connectionsPerSecond: 2, requestsPerSecond: 0, mtls: "mutual_tls" },
      [`service:${HOST}->workload:demo/hello-v1:tcp`]: { bytesPerSecond: 120, connectionsPerSecond: 2 },
    },
  },
  {
    name: "a flow only the source reported is drawn from the source's report",
    samples: [s("istio_tcp_sent_bytes_total", 7, { reporter: "source" }, sleep, hello, v1, { connection_security_policy: "unknown" })],
    edges: {
      [`workload:demo/sleep->service:${HOST}:tcp`]: { bytesPerSecond: 7, mtls: "none" },
      [`service:${HOST}->workload:demo/hello-v1:tcp`]: { bytesPerSecond: 7 },
    },
  },
  {
    name: "through a waypoint: HTTP edges with rates, errors, denials, p99 and the hop; the waypoint's TCP legs are folded away; an unknown source is found by its principal",
    waypoints: ["demo/wp-1"],
    samples: [
      s("istio_requests_total", 9, { reporter: "waypoint", source_workload: "unknown", source_principal: sleep.source_principal, response_code: "200", response_flags: "-" }, hello, v1, mtls, wpTarget),
      s("istio_requests_total", 1, { reporter: "waypoint", source_workload: "unknown", source_principal: sleep.source_principal, response_code: "503", response_flags: "UF" }, hello, v2, mtls, wpTarget),
      s("istio_requests_total", 1, { reporter: "waypoint", source_workload: "unknown", source_principal: sleep.source_principal, response_code: "403", response_flags: "RBAC" }, hello, v2, mtls, wpTarget),
      ...[[1, 0], [5, 8], [10, 9], [Infinity, 9]].map(([le, v]) => s("istio_request_duration_milliseconds_bucket", v!, { reporter: "waypoint", source_principal: sleep.source_principal, le: String(le === Infinity ? "+Inf" : le) }, hello, v1, mtls, wpTarget)),
      s("istio_response_bytes_sum", 50, { reporter: "waypoint", source_principal: sleep.source_principal }, hello, v1, mtls, wpTarget),
      s("istio_tcp_sent_bytes_total", 999, { reporter: "destination" }, sleep, hello, { destination_workload: "wp-1", destination_workload_namespace: "demo" }, mtls),
      s("istio_tcp_sent_bytes_total", 999, { reporter: "destination", source_workload: "wp-1", source_workload_namespace: "demo" }, hello, v1, mtls),
    ],
    edges: {
      [`workload:demo/sleep->service:${HOST}:http`]: { requestsPerSecond: 11, errorRate: 1 / 11, deniedPerSecond: 1, waypoint: "demo/wp", bytesPerSecond: 50, p99Ms: 9.55 },
      [`service:${HOST}->workload:demo/hello-v1:http`]: { requestsPerSecond: 9, errorRate: 0, waypoint: "demo/wp", mtls: "mutual_tls" },
      [`service:${HOST}->workload:demo/hello-v2:http`]: { requestsPerSecond: 2, errorRate: 0.5, deniedPerSecond: 1 },
    },
  },
  {
    name: "a service bound to a waypoint: the ztunnels' tunnel to it is drawn only while the waypoint reports no request",
    waypointServices: [HOST],
    samples: [
      s("istio_tcp_sent_bytes_total", 40, { reporter: "source" }, sleep, hello, mtls),
      s("istio_requests_total", 2, { reporter: "waypoint", response_code: "200" }, sleep, hello, v1, mtls, wpTarget),
    ],
    edges: {
      [`workload:demo/sleep->service:${HOST}:http`]: { requestsPerSecond: 2 },
      [`service:${HOST}->workload:demo/hello-v1:http`]: { requestsPerSecond: 2 },
    },
  },
  {
    name: "… and is drawn when the waypoint reported nothing",
    waypointServices: [HOST],
    samples: [s("istio_tcp_sent_bytes_total", 40, { reporter: "source" }, sleep, hello, mtls)],
    edges: { [`workload:demo/sleep->service:${HOST}:tcp`]: { bytesPerSecond: 40 } },
  },
  {
    name: "a caller no series names by workload stays an identity node; a plaintext one is unknown",
    samples: [
      s("istio_requests_total", 3, { reporter: "waypoint", source_principal: "spiffe://cluster.local/ns/other/sa/robot", response_code: "200" }, hello, v1, mtls),
      s("istio_tcp_sent_bytes_total", 4, { reporter: "destination", connection_security_policy: "none" }, hello, v1),
    ],
    edges: {
      [`identity:spiffe://cluster.local/ns/other/sa/robot->service:${HOST}:http`]: { requestsPerSecond: 3, waypoint: "waypoint" },
      [`identity:unknown->service:${HOST}:tcp`]: { bytesPerSecond: 4, mtls: "none" },
      [`service:${HOST}->workload:demo/hello-v1:http`]: { requestsPerSecond: 3 },
      [`service:${HOST}->workload:demo/hello-v1:tcp`]: { bytesPerSecond: 4 },
    },
  },
  {
    name: "no service: a direct workload → workload edge; zero and NaN rates draw nothing",
    samples: [
      s("istio_tcp_sent_bytes_total", 5, { reporter: "destination" }, sleep, v2, mtls),
      s("istio_tcp_sent_bytes_total", 0, { reporter: "destination" }, sleep, v1, mtls),
      s("istio_tcp_sent_bytes_total", NaN, { reporter: "destination" }, sleep, hello, mtls),
    ],
    edges: { "workload:demo/sleep->workload:demo/hello-v2:tcp": { bytesPerSecond: 5 } },
  },
  {
    name: "mixed security on one edge",
    samples: [
      s("istio_tcp_sent_bytes_total", 5, { reporter: "destination" }, sleep, v2, mtls),
      s("istio_tcp_sent_bytes_total", 5, { reporter: "destination", connection_security_policy: "none" }, sleep, v2),
    ],
    edges: { "workload:demo/sleep->workload:demo/hello-v2:tcp": { bytesPerSecond: 10, mtls: "mixed" } },
  },
];

for (const row of rows) {
  test(row.name, () => {
    const graph = serviceGraph(row.samples, { waypointWorkloads: new Set(row.waypoints ?? []), waypointServices: new Set(row.waypointServices ?? []) });
    expect(graph.edges.map((e) => e.id)).toEqual(Object.keys(row.edges).sort());
    for (const e of graph.edges) expect(e).toMatchObject(row.edges[e.id]!);
    const ids = new Set(graph.nodes.map((n) => n.id));
    for (const e of graph.edges) expect([ids.has(e.source), ids.has(e.target)]).toEqual([true, true]);
  });
}

test("nodes carry app, version and L4 denials by destination", () => {
  const graph = serviceGraph([
    s("istio_tcp_sent_bytes_total", 5, { reporter: "destination" }, sleep, hello, v1, mtls),
    s("ambit_authorization_decisions_total", 0.5, { decision: "deny", policy: "demo/deny-all", destination_workload: "hello-v1", destination_workload_namespace: "demo" }),
    s("ambit_authorization_decisions_total", 9, { decision: "allow", policy: "none", destination_workload: "hello-v1", destination_workload_namespace: "demo" }),
  ]);
  expect(graph.nodes).toEqual([
    { id: `service:${HOST}`, kind: "service", namespace: "demo", name: "hello", deniedConnectionsPerSecond: 0 },
    { id: "workload:demo/hello-v1", kind: "workload", namespace: "demo", name: "hello-v1", app: "hello", version: "v1", deniedConnectionsPerSecond: 0.5 },
    { id: "workload:demo/sleep", kind: "workload", namespace: "demo", name: "sleep", app: "sleep", version: undefined, deniedConnectionsPerSecond: 0 },
  ]);
});

test("names are data: a workload named <script> is carried as is (the page escapes it)", () => {
  const graph = serviceGraph([s("istio_tcp_sent_bytes_total", 1, { reporter: "destination", destination_workload: "<script>alert(1)</script>", destination_workload_namespace: "x" }, sleep)]);
  expect(graph.nodes.map((n) => n.name)).toContain("<script>alert(1)</script>");
});

test("histogramQuantile interpolates as Prometheus does", () => {
  const b = (...pairs: [number, number][]) => new Map(pairs);
  expect(histogramQuantile(0.5, b([10, 5], [100, 10], [Infinity, 10]))).toBe(10);
  expect(histogramQuantile(0.99, b([10, 0], [100, 100], [Infinity, 100]))).toBeCloseTo(99.1);
  expect(histogramQuantile(0.99, b([10, 1], [Infinity, 100]))).toBe(10);
  expect(histogramQuantile(0.99, b([10, 0], [Infinity, 0]))).toBeUndefined();
  expect(histogramQuantile(0.99, b([10, 3]))).toBeUndefined();
});
