// The service graph, Kiali's versioned-app graph as the model: a pure function
// from per-second rates of Istio's standard metrics to nodes (workloads and
// services) and edges (source workload → service → destination workload).
// Both the controlplane's own scrape and a Prometheus feed it the same samples,
// so one table of tests covers both sources.
import type { MetricSample } from "../../telemetry/prometheus_text.ts";
import { histogramQuantile } from "./histogram_quantile.ts";

/** A node: a workload, a service, or a caller known only by its identity. */
export interface GraphNode {
  /** `workload:<ns>/<name>`, `service:<hostname>` or `identity:<principal>`. */
  readonly id: string;
  readonly kind: "workload" | "service" | "identity";
  readonly namespace: string;
  readonly name: string;
  readonly app?: string;
  readonly version?: string;
  /** L4 connections denied by policy at this workload, per second (ztunnel counts them by destination only). */
  readonly deniedConnectionsPerSecond: number;
}

/** An edge with Kiali's figures. Rates are per second over the source's window. */
export interface GraphEdge {
  readonly id: string;
  readonly source: string;
  readonly target: string;
  readonly protocol: "http" | "grpc" | "tcp";
  /** HTTP/gRPC requests per second (0 on TCP edges). */
  readonly requestsPerSecond: number;
  /** Share of requests answered 5xx or not answered (0–1). */
  readonly errorRate: number;
  /** Requests refused by L7 policy (flags RBAC or UAEX), per second. */
  readonly deniedPerSecond: number;
  /** p99 duration in ms, from the duration histogram; absent when no request finished. */
  readonly p99Ms?: number;
  /** Request plus response bytes per second. */
  readonly bytesPerSecond: number;
  /** TCP connections opened per second (0 on HTTP edges). */
  readonly connectionsPerSecond: number;
  /** `mutual_tls` when every byte or request was, `none` when none was, `mixed` otherwise. */
  readonly mtls: "mutual_tls" | "none" | "mixed";
  /** The waypoint (`<ns>/<name>`) the traffic crossed, if any. */
  readonly waypoint?: string;
}

/** The graph. */
export interface ServiceGraph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

/** The metrics the graph reads; a source fetches only these. */
export const GRAPH_METRICS = [
  "istio_requests_total",
  "istio_request_duration_milliseconds_bucket",
  "istio_request_bytes_sum",
  "istio_response_bytes_sum",
  "istio_tcp_sent_bytes_total",
  "istio_tcp_received_bytes_total",
  "istio_tcp_connections_opened_total",
  "ambit_authorization_decisions_total",
] as const;

/** What the graph needs besides the rates. */
export interface GraphOptions {
  /** Waypoint instances as `<ns>/<workload>`: their TCP legs are folded into the HTTP edges they carry. */
  readonly waypointWorkloads?: ReadonlySet<string>;
  /**
   * Hostnames of services bound to a waypoint: their TCP series (the ztunnels' view of the tunnel to the
   * waypoint) are drawn only when the waypoint reported no request for them, so one hop is drawn once.
   */
  readonly waypointServices?: ReadonlySet<string>;
}

interface Flow {
  source: string;
  service?: string;
  destination?: string;
  protocol: GraphEdge["protocol"];
  reporter: string;
  waypoint?: string;
  requests: number;
  errors: number;
  denied: number;
  bytes: number;
  connections: number;
  secure: number;
  plain: number;
  buckets: Map<number, number>;
}

const known = (v: string | undefined): v is string => v !== undefined && v !== "" && v !== "unknown";

/**
 * Builds the graph from rate samples (each value already a per-second rate, as
 * PromQL `rate()` gives). HTTP edges come from the waypoint's (or a destination's)
 * request metrics, TCP edges from the ztunnels' — the destination's report when
 * there is one, else the source's, so a connection is never counted twice.
 *
 * @example
 * ```ts
 * serviceGraph([{ name: "istio_requests_total", labels: { reporter: "waypoint", … }, value: 2 }]);
 * ```
 */
export function serviceGraph(samples: readonly MetricSample[], options: GraphOptions = {}): ServiceGraph {
  const waypoints = options.waypointWorkloads ?? new Set<string>();
  const nodes = new Map<string, GraphNode>();
  const principals = principalIndex(samples);
  const flows = new Map<string, Flow>();

  const workloadNode = (side: "source" | "destination", l: Readonly<Record<string, string>>): string | undefined => {
    const name = l[`${side}_workload`];
    const namespace = l[`${side}_workload_namespace`];
    if (known(name) && known(namespace)) {
      const id = `workload:${namespace}/${name}`;
      if (!nodes.has(id)) {
        nodes.set(id, { id, kind: "workload", namespace, name, app: knownOr(l[`${side}_canonical_service`]), version: knownOr(l[`${side}_canonical_revision`]), deniedConnectionsPerSecond: 0 });
      }
      return id;
    }
    const principal = l[`${side}_principal`];
    if (!known(principal)) return undefined;
    const resolved = principals.get(principal);
    if (resolved) return workloadNode(side, resolved);
    const id = `identity:${principal}`;
    const m = /\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(principal);
    if (!nodes.has(id)) nodes.set(id, { id, kind: "identity", namespace: m?.[1] ?? "unknown", name: m?.[2] ?? principal, deniedConnectionsPerSecond: 0 });
    return id;
  };
  const serviceNode = (l: Readonly<Record<string, string>>): string | undefined => {
    const host = l.destination_service;
    if (!known(host)) return undefined;
    const id = `service:${host}`;
    if (!nodes.has(id)) {
      nodes.set(id, { id, kind: "service", namespace: knownOr(l.destination_service_namespace) ?? "unknown", name: knownOr(l.destination_service_name) ?? host, deniedConnectionsPerSecond: 0 });
    }
    return id;
  };
  const isWaypoint = (side: "source" | "destination", l: Readonly<Record<string, string>>) =>
    waypoints.has(`${l[`${side}_workload_namespace`]}/${l[`${side}_workload`]}`);

  const denials = new Map<string, number>();
  const l7Services = new Set(samples.filter((s) => s.name === "istio_requests_total" && s.value > 0).map((s) => s.labels.destination_service));
  for (const s of samples) {
    const l = s.labels;
    if (!(s.value > 0) || !Number.isFinite(s.value)) continue;
    if (s.name === "ambit_authorization_decisions_total") {
      if (l.decision === "deny" && known(l.destination_workload)) {
        const id = `workload:${l.destination_workload_namespace}/${l.destination_workload}`;
        denials.set(id, (denials.get(id) ?? 0) + s.value);
      }
      continue;
    }
    const tcp = s.name.startsWith("istio_tcp_");
    // A waypoint's own TCP legs are the HTTP edges it reports; drawn once, as those.
    if (tcp && (isWaypoint("source", l) || isWaypoint("destination", l))) continue;
    if (tcp && options.waypointServices?.has(l.destination_service ?? "") && l7Services.has(l.destination_service)) continue;
    const source = workloadNode("source", l) ?? unknownSource(nodes);
    const service = serviceNode(l);
    const destination = workloadNode("destination", l);
    if (!service && !destination) continue;
    const protocol: Flow["protocol"] = tcp ? "tcp" : l.request_protocol === "grpc" ? "grpc" : "http";
    const reporter = l.reporter ?? "unknown";
    const waypoint = reporter === "waypoint" ? waypointName(l) : undefined;
    const key = [source, service, destination, protocol, reporter, waypoint].join("\u0000");
    let f = flows.get(key);
    if (!f) {
      f = { source, service, destination, protocol, reporter, waypoint, requests: 0, errors: 0, denied: 0, bytes: 0, connections: 0, secure: 0, plain: 0, buckets: new Map() };
      flows.set(key, f);
    }
    addSample(f, s);
  }
  for (const [id, rate] of denials) {
    const n = nodes.get(id);
    if (n) nodes.set(id, { ...n, deniedConnectionsPerSecond: rate });
  }
  return { nodes: [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id)), edges: edgesOf(pickReporters([...flows.values()])) };
}

function addSample(f: Flow, s: MetricSample): void {
  const l = s.labels;
  const secure = l.connection_security_policy === "mutual_tls";
  switch (s.name) {
    case "istio_requests_total": {
      f.requests += s.value;
      const code = Number(l.response_code);
      if (!(code > 0 && code < 500)) f.errors += s.value;
      if (/(^|,)(RBAC|UAEX)(,|$)/.test(l.response_flags ?? "")) f.denied += s.value;
      if (secure) f.secure += s.value;
      else f.plain += s.value;
      break;
    }
    case "istio_request_duration_milliseconds_bucket": {
      const le = l.le === "+Inf" ? Infinity : Number(l.le);
      if (!Number.isNaN(le)) f.buckets.set(le, (f.buckets.get(le) ?? 0) + s.value);
      break;
    }
    case "istio_request_bytes_sum":
    case "istio_response_bytes_sum":
      f.bytes += s.value;
      break;
    case "istio_tcp_sent_bytes_total":
    case "istio_tcp_received_bytes_total":
      f.bytes += s.value;
      if (secure) f.secure += s.value;
      else f.plain += s.value;
      break;
    case "istio_tcp_connections_opened_total":
      f.connections += s.value;
      break;
  }
}

/** Per flow, one reporter: the waypoint's or destination's view, else the source's. */
function pickReporters(flows: readonly Flow[]): Flow[] {
  const rank = (r: string) => (r === "waypoint" ? 0 : r === "destination" ? 1 : r === "source" ? 2 : 3);
  const best = new Map<string, number>();
  const key = (f: Flow) => [f.source, f.service, f.destination, f.protocol === "tcp" ? "tcp" : "l7"].join("\u0000");
  for (const f of flows) best.set(key(f), Math.min(best.get(key(f)) ?? 9, rank(f.reporter)));
  return flows.filter((f) => rank(f.reporter) === best.get(key(f)));
}

function edgesOf(flows: readonly Flow[]): GraphEdge[] {
  const edges = new Map<string, Flow[]>();
  const add = (from: string, to: string, f: Flow) => {
    const id = `${from}->${to}:${f.protocol}`;
    edges.set(id, [...(edges.get(id) ?? []), f]);
  };
  for (const f of flows) {
    if (f.service) {
      add(f.source, f.service, f);
      if (f.destination) add(f.service, f.destination, f);
    } else if (f.destination) add(f.source, f.destination, f);
  }
  return [...edges.entries()].map(([id, fs]) => edge(id, fs)).sort((a, b) => a.id.localeCompare(b.id));
}

function edge(id: string, fs: readonly Flow[]): GraphEdge {
  const sum = (pick: (f: Flow) => number) => fs.reduce((n, f) => n + pick(f), 0);
  const requests = sum((f) => f.requests);
  const secure = sum((f) => f.secure);
  const plain = sum((f) => f.plain);
  const buckets = new Map<number, number>();
  for (const f of fs) for (const [le, v] of f.buckets) buckets.set(le, (buckets.get(le) ?? 0) + v);
  const p99 = histogramQuantile(0.99, buckets);
  const [, source = "", target = "", protocol = "tcp"] = /^(.*)->(.*):(\w+)$/.exec(id) ?? [];
  const waypoint = fs.find((f) => f.waypoint)?.waypoint;
  return {
    id,
    source,
    target,
    protocol: protocol as GraphEdge["protocol"],
    requestsPerSecond: requests,
    errorRate: requests > 0 ? sum((f) => f.errors) / requests : 0,
    deniedPerSecond: sum((f) => f.denied),
    ...(p99 === undefined ? {} : { p99Ms: p99 }),
    bytesPerSecond: sum((f) => f.bytes),
    connectionsPerSecond: sum((f) => f.connections),
    mtls: plain === 0 ? "mutual_tls" : secure === 0 ? "none" : "mixed",
    ...(waypoint ? { waypoint } : {}),
  };
}

/** principal → the one workload's labels that carry it (from any series naming both), when only one does. */
function principalIndex(samples: readonly MetricSample[]): Map<string, Record<string, string>> {
  const seen = new Map<string, Map<string, Record<string, string>>>();
  for (const s of samples) {
    for (const side of ["source", "destination"] as const) {
      const l = s.labels;
      const principal = l[`${side}_principal`];
      const name = l[`${side}_workload`];
      const namespace = l[`${side}_workload_namespace`];
      if (!known(principal) || !known(name) || !known(namespace)) continue;
      const byWorkload = seen.get(principal) ?? new Map();
      byWorkload.set(`${namespace}/${name}`, {
        [`source_workload`]: name,
        [`source_workload_namespace`]: namespace,
        [`destination_workload`]: name,
        [`destination_workload_namespace`]: namespace,
        [`source_canonical_service`]: l[`${side}_canonical_service`] ?? "",
        [`destination_canonical_service`]: l[`${side}_canonical_service`] ?? "",
        [`source_canonical_revision`]: l[`${side}_canonical_revision`] ?? "",
        [`destination_canonical_revision`]: l[`${side}_canonical_revision`] ?? "",
      });
      seen.set(principal, byWorkload);
    }
  }
  const index = new Map<string, Record<string, string>>();
  for (const [principal, byWorkload] of seen) if (byWorkload.size === 1) index.set(principal, [...byWorkload.values()][0]!);
  return index;
}

function unknownSource(nodes: Map<string, GraphNode>): string {
  const id = "identity:unknown";
  if (!nodes.has(id)) nodes.set(id, { id, kind: "identity", namespace: "unknown", name: "unknown", deniedConnectionsPerSecond: 0 });
  return id;
}

/** The waypoint a sample came from: its scrape target's labels (http_sd gives `namespace` and `app`). */
function waypointName(l: Readonly<Record<string, string>>): string {
  return known(l.namespace) && known(l.app) ? `${l.namespace}/${l.app}` : "waypoint";
}

function knownOr(v: string | undefined): string | undefined {
  return known(v) ? v : undefined;
}
