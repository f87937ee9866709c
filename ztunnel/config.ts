// ztunnel's settings: every flag, its environment variable and default, parsed
// once at start, validated and frozen. `--help` is generated from the same table.
import { isIP } from "node:net";
import * as os from "node:os";
import { z } from "zod";
import { FlagError, flagsHelp, type OptionSpec, parseFlags } from "../config/flags.ts";
import { PROXY_OPTIONS, PROXY_SCHEMA } from "../config/proxy_options.ts";
import { DEFAULT_MAX_TTL_SECONDS as MAX_CERT_TTL_SECONDS } from "../identity/mod.ts";

/** Every ztunnel option, documented where it is defined. */
export const ZTUNNEL_OPTIONS = {
  node: { flag: "node", env: "NODE_NAME", kind: "string", help: "this node's name; workloads with this `node` are served here (default: host name)" },
  address: { flag: "address", env: "ZTUNNEL_ADDRESS", kind: "string", default: "127.0.0.1", help: "the node's own address: admin, metrics and readiness listen here" },
  localConfig: { flag: "local-config", env: "LOCAL_XDS_PATH", kind: "string", help: "istio/ztunnel local config file (workloads, services, policies); reloaded on change and SIGHUP" },
  controlplane: { flag: "controlplane", env: "AMBIT_CONTROLPLANE", kind: "string", help: "controlplane URL (https://ip:15012, or http:// for a loopback dev endpoint): state over delta xDS, certificates by CSR; several comma-separated for HA replicas (one at a time, failing over in turn: docs/ha.md)" },
  joinToken: { flag: "join-token", env: "AMBIT_JOIN_TOKEN", kind: "string", help: "this node's join token (from `ambit node token create`), exchanged for a node certificate" },
  joinTokenFile: { flag: "join-token-file", env: "AMBIT_JOIN_TOKEN_FILE", kind: "string", help: "a file holding the join credential, read at every join: a join token, or in Kubernetes mode the node's projected ServiceAccount token (docs/kubernetes.md)" },
  caDir: { flag: "ca-dir", env: "AMBIT_CA_DIR", kind: "string", default: ".ambit/ca", help: "dev CA directory shared by the ztunnels of one machine (root created on first use)" },
  certTtl: { flag: "cert-ttl", env: "AMBIT_CERT_TTL", kind: "number", default: 86400, help: "requested workload certificate lifetime, seconds (renewed at half life; at most 90 days)" },
  hbonePort: { flag: "hbone-port", env: "AMBIT_HBONE_PORT", kind: "number", default: 15008, help: "inbound HBONE port on each workload address" },
  plaintextPort: { flag: "plaintext-port", env: "AMBIT_PLAINTEXT_PORT", kind: "number", default: 15006, help: "inbound plaintext port on each workload address (PeerAuthentication decides)" },
  socksCredentialsDir: { flag: "socks-credentials-dir", env: "AMBIT_SOCKS_CREDENTIALS_DIR", kind: "string", default: ".ambit/socks", help: "where each local workload's SOCKS5 credentials file is written (<dir>/<namespace>/<name>, mode 0600; docs/security.md)" },
  socksPort: { flag: "socks-port", env: "AMBIT_SOCKS_PORT", kind: "number", default: 15080, help: "SOCKS5 capture port on each workload address" },
  passthrough: { flag: "passthrough", env: "AMBIT_PASSTHROUGH", kind: "boolean", default: true, help: "let workloads reach destinations outside the mesh in plain TCP (--no-passthrough to refuse)" },
  passthroughLinkLocal: { flag: "passthrough-link-local", env: "AMBIT_PASSTHROUGH_LINK_LOCAL", kind: "boolean", default: false, help: "let passthrough reach link-local addresses (169.254.0.0/16, fe80::/10: cloud metadata); off by default" },
  capture: { flag: "capture", env: "AMBIT_CAPTURE", kind: "boolean", default: false, help: "serve transparent capture (docs/capture.md): outbound on a loopback address per owner-captured workload, DNS on 127.0.0.1; 15006 reads original destinations" },
  capturePort: { flag: "capture-port", env: "AMBIT_CAPTURE_PORT", kind: "number", default: 15001, help: "outbound capture port (on 127.128.0.0/9, one address per captured owner), where nftables sends captured workloads' TCP" },
  dnsPort: { flag: "dns-port", env: "AMBIT_DNS_PORT", kind: "number", default: 15053, help: "DNS proxy port (loopback, udp and tcp), where captured workloads' DNS is redirected" },
  dnsUpstream: { flag: "dns-upstream", env: "AMBIT_DNS_UPSTREAM", kind: "string", default: "", help: "resolver for names outside the mesh (ip or ip:port); empty: the first nameserver in /etc/resolv.conf; none: refuse them" },
  captureHeartbeat: { flag: "capture-heartbeat", env: "AMBIT_CAPTURE_HEARTBEAT", kind: "string", default: "", help: "nftables table (inet) of fail-open capture rules whose heartbeat this ztunnel keeps fresh; when it stops, captured traffic goes direct" },
  drainSeconds: { flag: "drain-seconds", env: "TERMINATION_GRACE_PERIOD_SECONDS", kind: "number", default: 30, help: "on SIGTERM, how long open connections may finish before they are closed" },
  connectTimeoutMs: { flag: "connect-timeout-ms", env: "AMBIT_CONNECT_TIMEOUT_MS", kind: "number", default: 10000, help: "upstream connect and TLS handshake deadline" },
  tracingEndpoint: { flag: "tracing-endpoint", env: "AMBIT_TRACING_ENDPOINT", kind: "string", default: "", help: "OTLP/HTTP protobuf URL (http://host:port/v1/traces) for connection spans; empty: none (the CONNECT still carries a traceparent)" },
  tracingSampling: { flag: "tracing-sampling", env: "AMBIT_TRACING_SAMPLING", kind: "number", default: 1, help: "percentage of outbound connections traced (inbound ones follow the caller's traceparent)" },
  ...PROXY_OPTIONS,
} as const satisfies Record<string, OptionSpec>;

const schema = z.object({
  ...PROXY_SCHEMA,
  node: z.string().min(1),
  address: z.string().refine((a) => isIP(a) !== 0, "must be an IP address"),
  localConfig: z.string().optional(),
  controlplane: z.string().regex(/^https?:\/\/[^/,]+(,https?:\/\/[^/,]+)*$/, "must be http(s)://host:port, or several comma-separated (HA replicas)").optional(),
  joinToken: z.string().optional(),
  joinTokenFile: z.string().optional(),
  caDir: z.string().min(1),
  certTtl: z.number().int().min(10).max(MAX_CERT_TTL_SECONDS, "must be at most 90 days (7776000 seconds)"),
  hbonePort: z.number().int().min(1).max(65535),
  socksCredentialsDir: z.string().min(1),
  socksPort: z.number().int().min(1).max(65535),
  plaintextPort: z.number().int().min(1).max(65535),
  passthrough: z.boolean(),
  passthroughLinkLocal: z.boolean(),
  capture: z.boolean(),
  capturePort: z.number().int().min(1).max(65535),
  dnsPort: z.number().int().min(1).max(65535),
  dnsUpstream: z.string().refine((u) => u === "" || u === "none" || isIP(u.replace(/:\d+$/, "")) !== 0, "must be an IP address, ip:port or none"),
  captureHeartbeat: z.string().regex(/^([A-Za-z][A-Za-z0-9_]{0,31})?$/, "must be an nftables table name"),
  drainSeconds: z.number().min(0),
  connectTimeoutMs: z.number().int().min(1),
  tracingEndpoint: z.string().regex(/^(https?:\/\/[^/\s]+\/\S*)?$/, "must be an http(s) URL with a path, e.g. http://127.0.0.1:4318/v1/traces"),
  tracingSampling: z.number().min(0).max(100),
});

/** Validated ztunnel settings. */
export type ZtunnelConfig = Readonly<z.output<typeof schema>>;

const refined = schema.superRefine((c, ctx) => {
  if (c.localConfig && c.controlplane) ctx.addIssue({ code: "custom", path: ["controlplane"], message: "use either --local-config or --controlplane, not both" });
  if (c.controlplane && new Set(c.controlplane.split(",").map((u) => u.split(":")[0])).size > 1) ctx.addIssue({ code: "custom", path: ["controlplane"], message: "mixes http and https replicas" });
  if (c.controlplane?.startsWith("https:") && !c.controlplaneCa) ctx.addIssue({ code: "custom", path: ["controlplaneCa"], message: "is required with an https controlplane" });
  if (c.controlplane?.startsWith("https:") && !c.joinToken && !c.joinTokenFile) ctx.addIssue({ code: "custom", path: ["joinToken"], message: "is required with an https controlplane (or --join-token-file)" });
});

/** Thrown for a bad flag or environment value; main prints it with --help's hint. */
export const ZtunnelConfigError = FlagError;

/** Reads flags (winning) and environment into a frozen config. */
export function loadZtunnelConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ZtunnelConfig {
  return parseFlags(ZTUNNEL_OPTIONS, refined, argv, env, (raw) => {
    raw.node ??= os.hostname();
  });
}

/** The --help text. */
export function ztunnelHelp(): string {
  return [
    "ztunnel — Ambit's node proxy: captures workload traffic (SOCKS5), carries it over HBONE with each",
    "workload's SPIFFE identity, enforces L4 policy, and reports Istio's TCP metrics.",
    "",
    "Usage: ztunnel [flags]",
    "",
    "Flags (each also read from the environment variable shown):",
    ...flagsHelp(ZTUNNEL_OPTIONS),
    "",
    "Signals: SIGTERM drains (stop accepting, let connections finish up to --drain-seconds, exit 0);",
    "SIGHUP reloads --local-config.",
  ].join("\n");
}
