// The waypoint's settings: every flag, its environment variable and default,
// parsed once at start, validated and frozen. `--help` is generated from the same table.
import { isIP } from "node:net";
import { z } from "zod";
import { FlagError, flagsHelp, type OptionSpec, parseFlags } from "../config/flags.ts";
import { PROXY_OPTIONS, PROXY_SCHEMA } from "../config/proxy_options.ts";

/** Every waypoint option, documented where it is defined. */
export const WAYPOINT_OPTIONS = {
  gateway: { flag: "gateway", env: "AMBIT_WAYPOINT_GATEWAY", kind: "string", help: "the waypoint Gateway this process serves, namespace/name (its identity is spiffe://<td>/ns/<ns>/sa/<name>)" },
  address: { flag: "address", env: "AMBIT_WAYPOINT_ADDRESS", kind: "string", default: "127.0.0.1", help: "the waypoint's own address: HBONE, metrics and readiness listen here" },
  localConfig: { flag: "local-config", env: "AMBIT_WAYPOINT_LOCAL_CONFIG", kind: "string", help: "YAML/JSON file holding a WaypointSnapshot (services, workloads, routes); reloaded on change and SIGHUP" },
  controlplane: { flag: "controlplane", env: "AMBIT_CONTROLPLANE", kind: "string", help: "controlplane URL (https://ip:15012, or http:// for a loopback dev endpoint): routes over delta xDS, the certificate by CSR" },
  token: { flag: "token", env: "AMBIT_WAYPOINT_TOKEN", kind: "string", help: "this waypoint's token (issued by the controlplane), sent as a bearer token to an https controlplane" },
  caDir: { flag: "ca-dir", env: "AMBIT_CA_DIR", kind: "string", default: ".ambit/ca", help: "dev CA directory (with --local-config; shared with the ztunnels of this machine)" },
  certTtl: { flag: "cert-ttl", env: "AMBIT_CERT_TTL", kind: "number", default: 86400, help: "requested certificate lifetime, seconds (renewed at half life)" },
  hbonePort: { flag: "hbone-port", env: "AMBIT_HBONE_PORT", kind: "number", default: 15008, help: "HBONE port the waypoint terminates tunnels on" },
  loadBalancing: { flag: "load-balancing", env: "AMBIT_WAYPOINT_LB", kind: "string", default: "least-request", help: "endpoint choice: round-robin or least-request (power of two choices)" },
  maxHeaderBytes: { flag: "max-header-bytes", env: "AMBIT_WAYPOINT_MAX_HEADER_BYTES", kind: "number", default: 16384, help: "largest HTTP/1.1 request head accepted (431 past it)" },
  idleTimeoutMs: { flag: "idle-timeout-ms", env: "AMBIT_WAYPOINT_IDLE_TIMEOUT_MS", kind: "number", default: 300000, help: "an idle downstream connection is closed after this long" },
  drainSeconds: { flag: "drain-seconds", env: "TERMINATION_GRACE_PERIOD_SECONDS", kind: "number", default: 30, help: "on SIGTERM, how long open requests may finish" },
  connectTimeoutMs: { flag: "connect-timeout-ms", env: "AMBIT_CONNECT_TIMEOUT_MS", kind: "number", default: 10000, help: "upstream HBONE connect and TLS handshake deadline" },
  accessLog: { flag: "access-log", env: "AMBIT_WAYPOINT_ACCESS_LOG", kind: "boolean", default: true, help: "one access-log line per request (--no-access-log to turn off)" },
  ...PROXY_OPTIONS,
} as const satisfies Record<string, OptionSpec>;

const port = z.number().int().min(0).max(65535);
const schema = z.object({
  ...PROXY_SCHEMA,
  gateway: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be namespace/name").optional(),
  address: z.string().refine((a) => isIP(a) !== 0, "must be an IP address"),
  localConfig: z.string().optional(),
  controlplane: z.string().regex(/^https?:\/\/[^/]+$/, "must be http(s)://host:port").optional(),
  token: z.string().optional(),
  caDir: z.string().min(1),
  certTtl: z.number().int().min(10),
  hbonePort: port,
  loadBalancing: z.enum(["round-robin", "least-request"]),
  maxHeaderBytes: z.number().int().min(1024).max(1 << 20),
  idleTimeoutMs: z.number().int().min(1),
  drainSeconds: z.number().min(0),
  connectTimeoutMs: z.number().int().min(1),
  accessLog: z.boolean(),
});

/** Validated waypoint settings. */
export type WaypointConfig = Readonly<z.output<typeof schema>>;

const refined = schema.superRefine((c, ctx) => {
  if (c.localConfig && c.controlplane) ctx.addIssue({ code: "custom", path: ["controlplane"], message: "use either --local-config or --controlplane, not both" });
  if (!c.localConfig && !c.controlplane) ctx.addIssue({ code: "custom", path: ["controlplane"], message: "one of --local-config or --controlplane is required" });
  if (c.controlplane && !c.gateway) ctx.addIssue({ code: "custom", path: ["gateway"], message: "is required with --controlplane" });
  if (c.controlplane?.startsWith("https:") && !c.controlplaneCa) ctx.addIssue({ code: "custom", path: ["controlplaneCa"], message: "is required with an https controlplane" });
  if (c.controlplane?.startsWith("https:") && !c.token) ctx.addIssue({ code: "custom", path: ["token"], message: "is required with an https controlplane" });
});

/** Thrown for a bad flag or environment value; main prints it with --help's hint. */
export const WaypointConfigError = FlagError;

/** Reads flags (winning) and environment into a frozen config. */
export function loadWaypointConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): WaypointConfig {
  return parseFlags(WAYPOINT_OPTIONS, refined, argv, env);
}

/** The --help text. */
export function waypointHelp(): string {
  return [
    "waypoint — Ambit's L7 proxy: terminates HBONE with its own identity, routes HTTP/1.1, h2c and gRPC",
    "by Gateway API HTTPRoute/GRPCRoute, picks endpoints itself, and reports Istio's request metrics.",
    "",
    "Usage: waypoint [flags]",
    "",
    "Flags (each also read from the environment variable shown):",
    ...flagsHelp(WAYPOINT_OPTIONS),
    "",
    "Signals: SIGTERM drains (stop accepting, let requests finish up to --drain-seconds, exit 0);",
    "SIGHUP reloads --local-config.",
  ].join("\n");
}
