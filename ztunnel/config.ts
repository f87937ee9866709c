// ztunnel's settings: every flag, its environment variable and default, parsed
// once at start, validated and frozen. `--help` is generated from the same table.
import { isIP } from "node:net";
import * as os from "node:os";
import { z } from "zod";

interface OptionSpec {
  readonly flag: string;
  readonly env?: string;
  readonly kind: "string" | "number" | "boolean";
  readonly default?: string | number | boolean;
  readonly help: string;
}

/** Every ztunnel option, documented where it is defined. */
export const ZTUNNEL_OPTIONS = {
  node: { flag: "node", env: "NODE_NAME", kind: "string", help: "this node's name; workloads with this `node` are served here (default: host name)" },
  address: { flag: "address", env: "ZTUNNEL_ADDRESS", kind: "string", default: "127.0.0.1", help: "the node's own address: admin, metrics and readiness listen here" },
  localConfig: { flag: "local-config", env: "LOCAL_XDS_PATH", kind: "string", help: "istio/ztunnel local config file (workloads, services, policies); reloaded on change and SIGHUP" },
  caDir: { flag: "ca-dir", env: "AMBIT_CA_DIR", kind: "string", default: ".ambit/ca", help: "dev CA directory shared by the ztunnels of one machine (root created on first use)" },
  trustDomain: { flag: "trust-domain", env: "TRUST_DOMAIN", kind: "string", default: "cluster.local", help: "SPIFFE trust domain" },
  clusterDomain: { flag: "cluster-domain", env: "CLUSTER_DOMAIN", kind: "string", default: "cluster.local", help: "DNS suffix of service host names (name.ns.svc.<domain>)" },
  certTtl: { flag: "cert-ttl", env: "AMBIT_CERT_TTL", kind: "number", default: 86400, help: "requested workload certificate lifetime, seconds (renewed at half life)" },
  adminPort: { flag: "admin-port", env: "AMBIT_ADMIN_PORT", kind: "number", default: 15000, help: "admin API port (loopback only)" },
  metricsPort: { flag: "metrics-port", env: "AMBIT_METRICS_PORT", kind: "number", default: 15020, help: "Prometheus metrics port" },
  readinessPort: { flag: "readiness-port", env: "AMBIT_READINESS_PORT", kind: "number", default: 15021, help: "readiness port (/healthz/ready)" },
  hbonePort: { flag: "hbone-port", env: "AMBIT_HBONE_PORT", kind: "number", default: 15008, help: "inbound HBONE port on each workload address" },
  socksPort: { flag: "socks-port", env: "AMBIT_SOCKS_PORT", kind: "number", default: 15080, help: "SOCKS5 capture port on each workload address" },
  passthrough: { flag: "passthrough", env: "AMBIT_PASSTHROUGH", kind: "boolean", default: true, help: "let workloads reach destinations outside the mesh in plain TCP (--no-passthrough to refuse)" },
  drainSeconds: { flag: "drain-seconds", env: "TERMINATION_GRACE_PERIOD_SECONDS", kind: "number", default: 30, help: "on SIGTERM, how long open connections may finish before they are closed" },
  connectTimeoutMs: { flag: "connect-timeout-ms", env: "AMBIT_CONNECT_TIMEOUT_MS", kind: "number", default: 10000, help: "upstream connect and TLS handshake deadline" },
  logLevel: { flag: "log-level", env: "LOG_LEVEL", kind: "string", default: "info", help: "debug, info, warn or error (changeable at run time: POST /logging?level=)" },
  logFormat: { flag: "log-format", env: "LOG_FORMAT", kind: "string", default: "text", help: "text (key=value) or json" },
} as const satisfies Record<string, OptionSpec>;

const schema = z.object({
  node: z.string().min(1),
  address: z.string().refine((a) => isIP(a) !== 0, "must be an IP address"),
  localConfig: z.string().optional(),
  caDir: z.string().min(1),
  trustDomain: z.string().regex(/^[a-z0-9._-]+$/, "must be a valid trust domain"),
  clusterDomain: z.string().min(1),
  certTtl: z.number().int().min(10),
  adminPort: z.number().int().min(0).max(65535),
  metricsPort: z.number().int().min(0).max(65535),
  readinessPort: z.number().int().min(0).max(65535),
  hbonePort: z.number().int().min(1).max(65535),
  socksPort: z.number().int().min(1).max(65535),
  passthrough: z.boolean(),
  drainSeconds: z.number().min(0),
  connectTimeoutMs: z.number().int().min(1),
  logLevel: z.enum(["debug", "info", "warn", "error"]),
  logFormat: z.enum(["text", "json"]),
});

/** Validated ztunnel settings. */
export type ZtunnelConfig = Readonly<z.output<typeof schema>>;

/** Thrown for a bad flag or environment value; main prints it with --help's hint. */
export class ZtunnelConfigError extends Error {}

/** Reads flags (winning) and environment into a frozen config. */
export function loadZtunnelConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ZtunnelConfig {
  const raw: Record<string, unknown> = {};
  const byFlag = new Map<string, readonly [string, OptionSpec]>(
    (Object.entries(ZTUNNEL_OPTIONS) as [string, OptionSpec][]).map(([key, spec]) => [spec.flag, [key, spec] as const]),
  );
  for (const [key, spec] of Object.entries(ZTUNNEL_OPTIONS) as [string, OptionSpec][]) {
    const fromEnv = spec.env ? env[spec.env] : undefined;
    raw[key] = fromEnv !== undefined && fromEnv !== "" ? coerce(spec, fromEnv, `$${spec.env}`) : spec.default;
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) throw new ZtunnelConfigError(`unexpected argument "${arg}"`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const negated = name.startsWith("no-") && byFlag.get(name.slice(3))?.[1].kind === "boolean";
    const entry = byFlag.get(negated ? name.slice(3) : name);
    if (!entry) throw new ZtunnelConfigError(`unknown flag --${name}`);
    const [key, spec] = entry;
    if (spec.kind === "boolean") {
      raw[key] = negated ? false : inline === undefined ? true : coerce(spec, inline, `--${name}`);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ZtunnelConfigError(`--${name} needs a value`);
    raw[key] = coerce(spec, value, `--${name}`);
  }
  raw.node ??= os.hostname();
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0]);
    const spec = (ZTUNNEL_OPTIONS as Record<string, OptionSpec>)[key];
    throw new ZtunnelConfigError(`--${spec?.flag ?? key}${spec?.env ? ` ($${spec.env})` : ""}: ${issue.message}`);
  }
  return Object.freeze(parsed.data);
}

function coerce(spec: OptionSpec, value: string, source: string): string | number | boolean {
  if (spec.kind === "number") {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new ZtunnelConfigError(`${source}: "${value}" is not a number`);
    return n;
  }
  if (spec.kind === "boolean") {
    if (/^(1|true|yes|on)$/i.test(value)) return true;
    if (/^(0|false|no|off)$/i.test(value)) return false;
    throw new ZtunnelConfigError(`${source}: "${value}" is not true or false`);
  }
  return value;
}

/** The --help text. */
export function ztunnelHelp(): string {
  const rows = (Object.values(ZTUNNEL_OPTIONS) as OptionSpec[]).map((o) => {
    const flag = `--${o.flag}${o.kind === "boolean" ? "" : " <" + o.kind + ">"}`;
    const extra = [o.env ? `$${o.env}` : "", o.default !== undefined ? `default ${o.default}` : ""].filter(Boolean).join(", ");
    return `  ${flag.padEnd(30)} ${o.help}${extra ? ` [${extra}]` : ""}`;
  });
  return [
    "ztunnel — Ambit's node proxy: captures workload traffic (SOCKS5), carries it over HBONE with each",
    "workload's SPIFFE identity, enforces L4 policy, and reports Istio's TCP metrics.",
    "",
    "Usage: ztunnel [flags]",
    "",
    "Flags (each also read from the environment variable shown):",
    ...rows,
    "  --help                         show this help",
    "",
    "Signals: SIGTERM drains (stop accepting, let connections finish up to --drain-seconds, exit 0);",
    "SIGHUP reloads --local-config.",
  ].join("\n");
}
