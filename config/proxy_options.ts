// The settings every mesh proxy (ztunnel, waypoint) takes alike: the same flag,
// environment variable, default, help and check, so the two stay in step.
import { z } from "zod";
import type { OptionSpec } from "./flags.ts";

/** Options whose meaning is the same in every proxy. */
export const PROXY_OPTIONS = {
  controlplaneCa: { flag: "controlplane-ca", env: "AMBIT_CONTROLPLANE_CA", kind: "string", help: "PEM file with the root that signed the controlplane's certificate" },
  trustDomain: { flag: "trust-domain", env: "TRUST_DOMAIN", kind: "string", default: "cluster.local", help: "SPIFFE trust domain" },
  clusterDomain: { flag: "cluster-domain", env: "CLUSTER_DOMAIN", kind: "string", default: "cluster.local", help: "DNS suffix of service host names (name.ns.svc.<domain>)" },
  adminPort: { flag: "admin-port", env: "AMBIT_ADMIN_PORT", kind: "number", default: 15000, help: "admin API port (loopback only)" },
  metricsPort: { flag: "metrics-port", env: "AMBIT_METRICS_PORT", kind: "number", default: 15020, help: "Prometheus metrics port" },
  readinessPort: { flag: "readiness-port", env: "AMBIT_READINESS_PORT", kind: "number", default: 15021, help: "readiness port (/healthz/ready)" },
  logLevel: { flag: "log-level", env: "LOG_LEVEL", kind: "string", default: "info", help: "debug, info, warn or error (changeable at run time: POST /logging?level=)" },
  logFormat: { flag: "log-format", env: "LOG_FORMAT", kind: "string", default: "text", help: "text (key=value) or json" },
} as const satisfies Record<string, OptionSpec>;

const port = z.number().int().min(0).max(65535);

/** Their checks, to spread into a proxy's schema. */
export const PROXY_SCHEMA = {
  controlplaneCa: z.string().optional(),
  trustDomain: z.string().regex(/^[a-z0-9._-]+$/, "must be a valid trust domain"),
  clusterDomain: z.string().min(1),
  adminPort: port,
  metricsPort: port,
  readinessPort: port,
  logLevel: z.enum(["debug", "info", "warn", "error"]),
  logFormat: z.enum(["text", "json"]),
} as const;
