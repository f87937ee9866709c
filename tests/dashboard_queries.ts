// The PromQL the Prometheus test runs: the L4 queries of Istio's Grafana
// dashboards (istio/istio manifests/addons/dashboards/: ztunnel-dashboard.gen.json
// and lib/queries.libsonnet, istio-mesh-dashboard, istio-service-dashboard,
// istio-workload-dashboard, read with the search tools) and Kiali's TCP graph
// query (kiali/kiali graph/telemetry/istio/istio.go, buildNamespaceTrafficMap).
// Each is copied with its template variables, which the test fills in as a user
// picking the demo would ($__rate_interval, $cluster, $qrep, $service, …).
// Left out, because Ambit has nothing they could measure: the ztunnel dashboard's
// DNS panel (no DNS proxy yet) and its Memory/CPU panels, which read cAdvisor's
// container_* series; the process_* rows below are what Ambit offers instead.

/** One dashboard query and where it comes from. */
export interface DashboardQuery {
  readonly dashboard: string;
  readonly panel: string;
  readonly expr: string;
}

export const DASHBOARD_QUERIES: readonly DashboardQuery[] = [
  // --- Istio Ztunnel Dashboard (ztunnel-dashboard.gen.json; newer rows from lib/queries.libsonnet) ---
  { dashboard: "ztunnel", panel: "Ztunnel Versions", expr: `sum(istio_build{component="ztunnel"}) by (tag)` },
  { dashboard: "ztunnel", panel: "Connections (Opened)", expr: `sum by (pod) (rate(istio_tcp_connections_opened_total{pod=~"ztunnel-.*"}[$__rate_interval]))` },
  { dashboard: "ztunnel", panel: "Connections (Closed)", expr: `-sum by (pod) (rate(istio_tcp_connections_closed_total{pod=~"ztunnel-.*"}[$__rate_interval]))` },
  { dashboard: "ztunnel", panel: "Bytes Transmitted (Sent)", expr: `sum by (pod) (rate(istio_tcp_sent_bytes_total{pod=~"ztunnel-.*"}[$__rate_interval]))` },
  { dashboard: "ztunnel", panel: "Bytes Transmitted (Received)", expr: `sum by (pod) (rate(istio_tcp_received_bytes_total{pod=~"ztunnel-.*"}[$__rate_interval]))` },
  { dashboard: "ztunnel", panel: "XDS (Connection Terminations)", expr: `sum by (pod) (rate(istio_xds_connection_terminations_total{pod=~"ztunnel-.*"}[$__rate_interval]))` },
  { dashboard: "ztunnel", panel: "XDS messages (ztunnelXdsMessages)", expr: `sum by (url) (irate(istio_xds_message_total{cluster=~"$cluster", pod=~"ztunnel-.*"}[$__rate_interval]))` },
  { dashboard: "ztunnel", panel: "Workload Manager (Active Proxies)", expr: `sum by (pod) (workload_manager_active_proxy_count{pod=~"ztunnel-.*"})` },
  { dashboard: "ztunnel", panel: "Workload Manager (Pending Proxies)", expr: `sum by (pod) (workload_manager_pending_proxy_count{pod=~"ztunnel-.*"})` },
  {
    dashboard: "ztunnel",
    panel: "Socket resources (TCP Connections)",
    expr: `sum by (pod) (istio_tcp_connections_opened_total{cluster=~"$cluster", app="ztunnel"}) - sum by (pod) (istio_tcp_connections_closed_total{cluster=~"$cluster", app="ztunnel"})`,
  },
  { dashboard: "ztunnel", panel: "Socket resources (Open File Descriptors)", expr: `sum by (pod) (process_open_fds{cluster=~"$cluster", app="ztunnel"})` },
  { dashboard: "ztunnel", panel: "Socket resources (Open Sockets)", expr: `sum by (pod) (istio_tcp_sockets_open{cluster=~"$cluster", app="ztunnel"})` },
  { dashboard: "ztunnel (Ambit for cAdvisor)", panel: "Memory Usage", expr: `sum by (pod) (process_resident_memory_bytes{app="ztunnel"})` },
  { dashboard: "ztunnel (Ambit for cAdvisor)", panel: "CPU Usage", expr: `sum by (pod) (irate(process_cpu_seconds_total{app="ztunnel"}[$__rate_interval]))` },

  // --- Istio Mesh Dashboard ---
  { dashboard: "mesh", panel: "Istio Components by Version", expr: `sum by (component, tag) (istio_build{cluster=~"$cluster"})` },
  {
    dashboard: "mesh",
    panel: "TCP Workloads (recv)",
    expr:
      `label_join(sum by (destination_workload, destination_workload_namespace, destination_service) (rate(istio_tcp_received_bytes_total{cluster=~"$cluster", reporter=~"source|waypoint"}[$__rate_interval])), "destination_workload_var", ".", "destination_workload", "destination_workload_namespace")`,
  },
  {
    dashboard: "mesh",
    panel: "TCP Workloads (sent)",
    expr:
      `label_join(sum by (destination_workload, destination_workload_namespace, destination_service) (rate(istio_tcp_sent_bytes_total{cluster=~"$cluster", reporter=~"source|waypoint"}[$__rate_interval])), "destination_workload_var", ".", "destination_workload", "destination_workload_namespace")`,
  },

  // --- Istio Service Dashboard ($service = the demo's hello service) ---
  { dashboard: "service", panel: "variable $service", expr: `count by (destination_service) (istio_tcp_sent_bytes_total{destination_service=~".+", destination_service!="unknown"})` },
  {
    dashboard: "service",
    panel: "variable $srcns",
    expr: `sum(istio_requests_total{reporter=~"$qrep", destination_service="$service"}) by (source_workload_namespace) or sum(istio_tcp_sent_bytes_total{reporter=~"$qrep", destination_service=~"$service"}) by (source_workload_namespace)`,
  },
  { dashboard: "service", panel: "TCP Received Bytes", expr: `sum(irate(istio_tcp_received_bytes_total{reporter=~"$qrep", destination_service=~"$service"}[1m]))` },
  { dashboard: "service", panel: "TCP Sent Bytes", expr: `sum(irate(istio_tcp_sent_bytes_total{reporter=~"$qrep", destination_service=~"$service"}[1m]))` },
  {
    dashboard: "service",
    panel: "Client Workloads: Bytes Received from Incoming TCP Connection",
    expr:
      `round(sum(irate(istio_tcp_received_bytes_total{reporter=~"$qrep", connection_security_policy="mutual_tls", destination_service=~"$service", source_workload=~"$srcwl", source_workload_namespace=~"$srcns"}[1m])) by (source_workload, source_workload_namespace), 0.001)`,
  },
  {
    dashboard: "service",
    panel: "Client Workloads: Bytes Sent to Incoming TCP Connection",
    expr:
      `round(sum(irate(istio_tcp_sent_bytes_total{connection_security_policy="mutual_tls", reporter=~"$qrep", destination_service=~"$service", source_workload=~"$srcwl", source_workload_namespace=~"$srcns"}[1m])) by (source_workload, source_workload_namespace), 0.001)`,
  },
  {
    dashboard: "service",
    panel: "Service Workloads: Bytes Received from Incoming TCP Connection",
    expr:
      `round(sum(irate(istio_tcp_received_bytes_total{reporter="destination", connection_security_policy="mutual_tls", destination_service=~"$service", destination_workload=~"$dstwl", destination_workload_namespace=~"$dstns"}[1m])) by (destination_workload, destination_workload_namespace), 0.001)`,
  },
  {
    dashboard: "service",
    panel: "Service Workloads: Bytes Sent to Incoming TCP Connection",
    expr:
      `round(sum(irate(istio_tcp_sent_bytes_total{reporter="destination", connection_security_policy="mutual_tls", destination_service=~"$service", destination_workload=~"$dstwl", destination_workload_namespace=~"$dstns"}[1m])) by (destination_workload, destination_workload_namespace), 0.001)`,
  },

  // --- Istio Workload Dashboard ($workload = hello-v2, $namespace = demo) ---
  {
    dashboard: "workload",
    panel: "TCP Server Traffic",
    expr:
      `sum(irate(istio_tcp_sent_bytes_total{reporter=~"$qrep", destination_workload_namespace=~"$namespace", destination_workload=~"$workload"}[1m])) + sum(irate(istio_tcp_received_bytes_total{reporter=~"$qrep", destination_workload_namespace=~"$namespace", destination_workload=~"$workload"}[1m]))`,
  },
  {
    dashboard: "workload",
    panel: "TCP Client Traffic ($workload = client)",
    expr:
      `sum(irate(istio_tcp_sent_bytes_total{reporter=~"$qrep", source_workload_namespace=~"$namespace", source_workload=~"$client"}[1m])) + sum(irate(istio_tcp_received_bytes_total{reporter=~"$qrep", source_workload_namespace=~"$namespace", source_workload=~"$client"}[1m]))`,
  },
  {
    dashboard: "workload",
    panel: "Inbound Workloads: Bytes Received from Incoming TCP Connection",
    expr:
      `round(sum(irate(istio_tcp_received_bytes_total{reporter=~"$qrep", connection_security_policy="mutual_tls", destination_workload_namespace=~"$namespace", destination_workload=~"$workload", source_workload=~"$srcwl", source_workload_namespace=~"$srcns"}[$__rate_interval])) by (source_workload, source_workload_namespace), 0.001)`,
  },
  {
    dashboard: "workload",
    panel: "Inbound Workloads: Bytes Sent to Incoming TCP Connection",
    expr:
      `round(sum(irate(istio_tcp_sent_bytes_total{reporter=~"$qrep", connection_security_policy="mutual_tls", destination_workload_namespace=~"$namespace", destination_workload=~"$workload", source_workload=~"$srcwl", source_workload_namespace=~"$srcns"}[$__rate_interval])) by (source_workload, source_workload_namespace), 0.001)`,
  },
  {
    dashboard: "workload",
    panel: "Outbound Services: Bytes Sent on Outgoing TCP Connection ($workload = client)",
    expr:
      `round(sum(irate(istio_tcp_received_bytes_total{reporter="source", source_workload_namespace=~"$namespace", source_workload=~"$client", connection_security_policy="mutual_tls", destination_service=~"$dstsvc"}[1m])) by (destination_service), 0.001)`,
  },
  {
    dashboard: "workload",
    panel: "Outbound Services: Bytes Received from Outgoing TCP Connection ($workload = client)",
    expr:
      `round(sum(irate(istio_tcp_sent_bytes_total{reporter="source", source_workload_namespace=~"$namespace", source_workload=~"$client", connection_security_policy="mutual_tls", destination_service=~"$dstsvc"}[1m])) by (destination_service), 0.001)`,
  },

  // --- Istio pilot dashboard (the controlplane's own /metrics) ---
  { dashboard: "pilot", panel: "Pilot Versions", expr: `sum(istio_build{component="pilot"}) by (tag)` },
  { dashboard: "pilot", panel: "XDS Connections (server reported)", expr: `sum(pilot_xds{cluster=~"$cluster"})` },
  { dashboard: "pilot", panel: "XDS Pushes", expr: `sum by (type) (irate(pilot_xds_pushes{cluster=~"$cluster"}[$__rate_interval]))` },
];

/**
 * The request (L7) queries of the same dashboards, which in an ambient mesh only a waypoint answers
 * (`reporter="waypoint"`): the mesh dashboard selects `reporter=~"source|waypoint"` itself; the
 * service and workload dashboards read `reporter=~"$qrep"`, which the test sets to `waypoint`.
 * Panels on `reporter="source"` or `"destination"` requests are left out: in ambient mode no sidecar
 * reports those, in Istio or in Ambit.
 */
export const WAYPOINT_DASHBOARD_QUERIES: readonly DashboardQuery[] = [
  // --- Istio Mesh Dashboard ---
  { dashboard: "mesh", panel: "Global Request Volume", expr: `round(sum (rate(istio_requests_total{cluster=~"$cluster", reporter=~"source|waypoint"}[$__rate_interval])), 0.01)` },
  {
    dashboard: "mesh",
    panel: "Global Success Rate (non-5xx responses)",
    expr:
      `sum (rate(istio_requests_total{cluster=~"$cluster", reporter=~"source|waypoint", response_code!~"5.*"}[$__rate_interval])) / sum (rate(istio_requests_total{cluster=~"$cluster", reporter=~"source|waypoint"}[$__rate_interval]))`,
  },
  {
    dashboard: "mesh",
    panel: "HTTP/GRPC Workloads (requests)",
    expr:
      `label_join(sum by (destination_workload, destination_workload_namespace, destination_service) (rate(istio_requests_total{cluster=~"$cluster", reporter=~"source|waypoint"}[$__rate_interval])), "destination_workload_var", ".", "destination_workload", "destination_workload_namespace")`,
  },
  {
    dashboard: "mesh",
    panel: "HTTP/GRPC Workloads (P50 latency)",
    expr:
      `label_join(histogram_quantile(0.5, sum by (le, destination_workload, destination_workload_namespace) (rate(istio_request_duration_milliseconds_bucket{cluster=~"$cluster", reporter=~"source|waypoint"}[$__rate_interval]))), "destination_workload_var", ".", "destination_workload", "destination_workload_namespace")`,
  },
  // --- Istio Service Dashboard ---
  { dashboard: "service", panel: "Client Request Volume", expr: `round(sum(irate(istio_requests_total{reporter=~"$qrep",destination_service=~"$service"}[5m])), 0.001)` },
  {
    dashboard: "service",
    panel: "Client Success Rate (non-5xx responses)",
    expr:
      `sum(irate(istio_requests_total{reporter=~"$qrep",destination_service=~"$service",response_code!~"5.*"}[5m])) / sum(irate(istio_requests_total{reporter=~"$qrep",destination_service=~"$service"}[5m]))`,
  },
  {
    dashboard: "service",
    panel: "Client Request Duration",
    expr:
      `(histogram_quantile(0.50, sum(irate(istio_request_duration_milliseconds_bucket{reporter=~"$qrep",destination_service=~"$service"}[1m])) by (le)) / 1000) or histogram_quantile(0.50, sum(irate(istio_request_duration_seconds_bucket{reporter=~"$qrep",destination_service=~"$service"}[1m])) by (le))`,
  },
  {
    dashboard: "service",
    panel: "Incoming Requests By Source And Response Code",
    expr:
      `round(sum(irate(istio_requests_total{connection_security_policy="mutual_tls",destination_service=~"$service",reporter=~"$qrep",source_workload=~"$srcwl",source_workload_namespace=~"$srcns"}[5m])) by (source_workload, source_workload_namespace, response_code), 0.001)`,
  },
  // --- Istio Workload Dashboard ---
  {
    dashboard: "workload",
    panel: "Incoming Request Volume",
    expr: `round(sum(irate(istio_requests_total{reporter=~"$qrep",destination_workload_namespace=~"$namespace",destination_workload=~"$workload"}[5m])), 0.001)`,
  },
  {
    dashboard: "workload",
    panel: "Incoming Success Rate (non-5xx responses)",
    expr:
      `sum(irate(istio_requests_total{reporter=~"$qrep",destination_workload_namespace=~"$namespace",destination_workload=~"$workload",response_code!~"5.*"}[5m])) / sum(irate(istio_requests_total{reporter=~"$qrep",destination_workload_namespace=~"$namespace",destination_workload=~"$workload"}[5m]))`,
  },
  {
    dashboard: "workload",
    panel: "Incoming Requests By Source And Response Code",
    expr:
      `round(sum(irate(istio_requests_total{connection_security_policy="mutual_tls", destination_workload_namespace=~"$namespace", destination_workload=~"$workload", reporter=~"$qrep", source_workload=~"$srcwl", source_workload_namespace=~"$srcns"}[5m])) by (source_workload, source_workload_namespace, response_code), 0.001)`,
  },
  {
    dashboard: "workload",
    panel: "Request Duration",
    expr:
      `(histogram_quantile(0.50, sum(irate(istio_request_duration_milliseconds_bucket{reporter=~"$qrep",destination_workload=~"$workload", destination_workload_namespace=~"$namespace"}[1m])) by (le)) / 1000) or histogram_quantile(0.50, sum(irate(istio_request_duration_seconds_bucket{reporter=~"$qrep",destination_workload=~"$workload", destination_workload_namespace=~"$namespace"}[1m])) by (le))`,
  },
];

/** Kiali's TCP edges out of a namespace: query 3 of buildNamespaceTrafficMap's TCP section (its default TCP rate is "sent"). */
export const KIALI_TCP_EDGES =
  `sum(rate(istio_tcp_sent_bytes_total{reporter="source",source_workload_namespace="$namespace"} [$durations])) by (source_workload_namespace,source_workload,source_canonical_service,source_canonical_revision,destination_service_namespace,destination_service,destination_service_name,destination_workload_namespace,destination_workload,destination_canonical_service,destination_canonical_revision,response_flags)`;

/** Fills a query's template variables. */
export function fillVariables(expr: string, vars: Readonly<Record<string, string>>): string {
  return expr.replace(/\$(\w+)/g, (m, name: string) => vars[name] ?? m);
}
