// The controlplane's settings: every flag with its environment variable and
// default, parsed once, validated and frozen. `--help` comes from the same table.
import { isIP } from "node:net";
import * as path from "node:path";
import { z } from "zod";
import { FlagError, flagsHelp, type OptionSpec, parseFlags } from "../config/flags.ts";
import { DEFAULT_MAX_TTL_SECONDS } from "../identity/mod.ts";
import { DEFAULT_JOIN_TOKEN_TTL_SECONDS, MAX_JOIN_TOKEN_TTL_SECONDS } from "./node_registry.ts";

/** Every controlplane option. */
export const CONTROLPLANE_OPTIONS = {
  stateDir: { flag: "state-dir", env: "AMBIT_STATE_DIR", kind: "string", default: ".ambit/controlplane", help: "where applied config, nodes, the admin token and the CA live" },
  listen: { flag: "listen", env: "AMBIT_LISTEN", kind: "string", default: "127.0.0.1:15012", help: "TLS endpoint (HTTP/2): config API (admin token), xDS and CA (node certificates), node join" },
  devListen: { flag: "dev-listen", env: "AMBIT_DEV_LISTEN", kind: "string", default: "", help: "loopback-only cleartext endpoint with NO authentication, for local dev (e.g. 127.0.0.1:15010); off when empty" },
  metricsListen: { flag: "metrics-listen", env: "AMBIT_METRICS_LISTEN", kind: "string", default: "", help: "plain HTTP/1.1 endpoint for Prometheus: GET /metrics only, like istiod's port 15014 (e.g. 127.0.0.1:15014); off when empty" },
  dashboardListen: { flag: "dashboard-listen", env: "AMBIT_DASHBOARD_LISTEN", kind: "string", default: "", help: "loopback-only plain HTTP endpoint of the service-graph page and its JSON (GET /, /api/graph), NO authentication (e.g. 127.0.0.1:20001); off when empty" },
  prometheusUrl: { flag: "prometheus-url", env: "AMBIT_PROMETHEUS_URL", kind: "string", default: "", help: "the service graph reads its rates from this Prometheus (http://host:port) instead of scraping the data plane itself" },
  dashboardWindow: { flag: "dashboard-window", env: "AMBIT_DASHBOARD_WINDOW", kind: "number", default: 60, help: "seconds of traffic the graph's rates are taken over (Kiali's default: the last minute)" },
  dashboardScrapeInterval: { flag: "dashboard-scrape-interval", env: "AMBIT_DASHBOARD_SCRAPE_INTERVAL", kind: "number", default: 5, help: "seconds between the dashboard's own scrapes of the data plane (without --prometheus-url)" },
  trustDomain: { flag: "trust-domain", env: "TRUST_DOMAIN", kind: "string", default: "cluster.local", help: "SPIFFE trust domain" },
  caDir: { flag: "ca-dir", env: "AMBIT_CA_DIR", kind: "string", help: "CA files (Istio plug-in layout: ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem); a root is created when empty [default <state-dir>/ca]" },
  maxCertTtl: { flag: "max-cert-ttl", env: "AMBIT_MAX_CERT_TTL", kind: "number", default: DEFAULT_MAX_TTL_SECONDS, help: "longest workload certificate lifetime, seconds (at most 7 days; a request naming none gets 24 h)" },
  joinTokenTtl: { flag: "join-token-ttl", env: "AMBIT_JOIN_TOKEN_TTL", kind: "number", default: DEFAULT_JOIN_TOKEN_TTL_SECONDS, help: "how long a join token works unless its creator asks otherwise, seconds (it works once)" },
  maxConnectionsPerPeer: { flag: "max-connections-per-peer", env: "AMBIT_MAX_CONNECTIONS_PER_PEER", kind: "number", default: 64, help: "connections one peer address may hold on --listen; raise it when more nodes than this reach the controlplane through one NAT address" },
  xdsKeepalive: { flag: "xds-keepalive", env: "AMBIT_XDS_KEEPALIVE", kind: "number", default: 5, help: "seconds between keepalives on each connection (HTTP/2 PING) and xDS stream (an empty line); a silent peer is dropped after about 2× (controlplane side) or 3× (node side)" },
  meshConfig: { flag: "mesh-config", env: "AMBIT_MESH_CONFIG", kind: "string", default: "", help: "Istio mesh config file (bare, `meshConfig:` values or the istio ConfigMap): its envoyExtAuthzHttp extensionProviders serve CUSTOM policies at waypoints; read at start" },
  store: { flag: "store", env: "AMBIT_STORE", kind: "string", default: "", help: "where config, nodes, VIPs and the CA are kept: empty for files under --state-dir, or etcd://host:port[,host:port…][/prefix] to share them between replicas (docs/ha.md)" },
  etcdCa: { flag: "etcd-ca", env: "AMBIT_ETCD_CA", kind: "string", default: "", help: "PEM CA of etcd's serving certificate: talk to etcd over TLS (https)" },
  etcdCert: { flag: "etcd-cert", env: "AMBIT_ETCD_CERT", kind: "string", default: "", help: "PEM client certificate for etcd (with --etcd-key), when etcd checks clients (--client-cert-auth)" },
  etcdKey: { flag: "etcd-key", env: "AMBIT_ETCD_KEY", kind: "string", default: "", help: "PEM private key of --etcd-cert" },
  etcdServerName: { flag: "etcd-server-name", env: "AMBIT_ETCD_SERVER_NAME", kind: "string", default: "", help: "the DNS name etcd's certificate is checked for, when --store names IP addresses (docs/ha.md)" },
  kubeconfig: { flag: "kubeconfig", env: "AMBIT_KUBECONFIG", kind: "string", default: "", help: "Kubernetes mode: list and watch config from this cluster (a kubeconfig file, or in-cluster for the pod's ServiceAccount; docs/kubernetes.md)" },
  waypointImage: { flag: "waypoint-image", env: "AMBIT_WAYPOINT_IMAGE", kind: "string", default: "", help: "Kubernetes mode: the image of the Deployment made for each waypoint Gateway [default localhost/ambit/waypoint:<version>]" },
  leaseDuration: { flag: "lease-duration", env: "AMBIT_LEASE_DURATION", kind: "number", default: 15, help: "Kubernetes mode: seconds the status writer's Lease lasts unrenewed before another replica takes it" },
  configDir: { flag: "config-dir", env: "AMBIT_CONFIG_DIR", kind: "string", default: "", help: "a directory of YAML/JSON config applied at start" },
  rootNamespace: { flag: "root-namespace", env: "AMBIT_ROOT_NAMESPACE", kind: "string", default: "istio-system", help: "policies here apply mesh-wide" },
  clusterId: { flag: "cluster-id", env: "CLUSTER_ID", kind: "string", default: "Kubernetes", help: "cluster name in workload uids and metrics" },
  clusterDomain: { flag: "cluster-domain", env: "CLUSTER_DOMAIN", kind: "string", default: "cluster.local", help: "DNS suffix of service host names" },
  vipRange: { flag: "vip-range", env: "AMBIT_VIP_RANGE", kind: "string", default: "240.240.0.0/16", help: "where VIPs are allocated for services that have none" },
  logLevel: { flag: "log-level", env: "LOG_LEVEL", kind: "string", default: "info", help: "debug, info, warn or error" },
  logFormat: { flag: "log-format", env: "LOG_FORMAT", kind: "string", default: "text", help: "text or json" },
} as const satisfies Record<string, OptionSpec>;

const hostPort = z.string().refine((s) => {
  const m = /^(.*):(\d+)$/.exec(s);
  return !!m && isIP(m[1]!.replace(/^\[|\]$/g, "")) !== 0 && Number(m[2]) <= 65535;
}, "must be <ip>:<port>");

const schema = z.object({
  stateDir: z.string().min(1),
  listen: hostPort,
  devListen: z.union([z.literal(""), hostPort.refine((s) => /^(127\.|\[::1\]:)/.test(s), "must be a loopback address: it has no authentication")]),
  metricsListen: z.union([z.literal(""), hostPort]),
  dashboardListen: z.union([z.literal(""), hostPort.refine((s) => /^(127\.|\[::1\]:)/.test(s), "must be a loopback address: it has no authentication")]),
  prometheusUrl: z.union([z.literal(""), z.string().url().refine((s) => /^https?:/.test(s), "must be an http(s) URL")]),
  dashboardWindow: z.number().int().min(5).max(3600),
  dashboardScrapeInterval: z.number().min(0.2).max(300),
  trustDomain: z.string().regex(/^[a-z0-9._-]+$/, "must be a valid trust domain"),
  caDir: z.string().min(1),
  maxCertTtl: z.number().int().min(60).max(DEFAULT_MAX_TTL_SECONDS, "must be at most 604800 (7 days)"),
  joinTokenTtl: z.number().int().min(1).max(MAX_JOIN_TOKEN_TTL_SECONDS, "must be at most 604800 (7 days)"),
  maxConnectionsPerPeer: z.number().int().min(1).max(1_000_000),
  xdsKeepalive: z.number().min(0.1).max(300),
  meshConfig: z.string(),
  store: z.union([z.literal(""), z.string().regex(/^etcd:\/\/[^/,]+(,[^/,]+)*(\/[\w./-]*)?$/, "must be etcd://host:port[,host:port…][/prefix]")]),
  etcdCa: z.string(),
  etcdCert: z.string(),
  etcdKey: z.string(),
  etcdServerName: z.string(),
  kubeconfig: z.string(),
  leaseDuration: z.number().int().min(1),
  waypointImage: z.string(),
  configDir: z.string(),
  rootNamespace: z.string().min(1),
  clusterId: z.string().min(1),
  clusterDomain: z.string().min(1),
  vipRange: z.string().regex(/^\d+\.\d+\.\d+\.\d+\/\d+$/, "must be an IPv4 CIDR"),
  logLevel: z.enum(["debug", "info", "warn", "error"]),
  logFormat: z.enum(["text", "json"]),
});

/** Validated controlplane settings. */
export type ControlplaneConfig = Readonly<z.output<typeof schema>>;
export { FlagError as ControlplaneConfigError };

/** Reads flags and environment into a frozen config. */
export function loadControlplaneConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ControlplaneConfig {
  return parseFlags(CONTROLPLANE_OPTIONS, schema, argv, env, (raw) => {
    raw.caDir ??= path.join(String(raw.stateDir), "ca");
  });
}

/** Splits "ip:port". */
export function splitHostPort(s: string): { address: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(s)!;
  return { address: m[1]!.replace(/^\[|\]$/g, ""), port: Number(m[2]) };
}

/** The --help text. */
export function controlplaneHelp(): string {
  return [
    "controlplane — Ambit's istiod: reads Istio / Gateway API / Kubernetes YAML, keeps it, streams each",
    "node's data-plane state over delta xDS, and is the CA that signs workload certificates for the",
    "workloads on the asking node only.",
    "",
    "Usage: controlplane [flags]",
    "",
    "Flags (each also read from the environment variable shown):",
    ...flagsHelp(CONTROLPLANE_OPTIONS),
  ].join("\n");
}
