// Schemas for the data-plane resources as they arrive over xDS: a ztunnel checks
// each one and NACKs, by name, what it cannot apply.
import { isIP } from "node:net";
import { z } from "zod";
import { isNamespaceName, isServiceAccountName, isTrustDomain } from "../identity/spiffe.ts";
import type { Authorization, Service, Workload } from "./resources.ts";

const ip = z.string().refine((s) => isIP(s) !== 0, "must be an IP address");
const port = z.number().int().min(0).max(65535);
const portMap = z.record(z.string().regex(/^\d+$/, "port must be a number"), port);
const networkAddress = z.object({ network: z.string(), address: ip });
const gateway = z.object({
  destination: z.union([
    z.object({ kind: z.literal("address"), address: networkAddress }),
    z.object({ kind: z.literal("hostname"), namespace: z.string(), hostname: z.string() }),
  ]),
  hboneMtlsPort: port,
});
const name = z.string().min(1);
// The parts of the workload's SPIFFE id: a bad one must be NACKed here, not fail later when its certificate is made.
const namespaceName = z.string().refine(isNamespaceName, "must be a Kubernetes namespace name (a DNS label)");
const serviceAccountName = z.string().refine(isServiceAccountName, "must be a Kubernetes service account name (a DNS subdomain)");
const trustDomain = z.string().refine(isTrustDomain, "must be a trust domain (lower-case letters, digits, '.', '-', '_')");

/** A Workload as sent over xDS. */
export const workloadSchema = z.object({
  uid: name,
  name: z.string(),
  namespace: namespaceName,
  serviceAccount: serviceAccountName,
  trustDomain,
  addresses: z.array(ip),
  network: z.string(),
  node: z.string(),
  tunnelProtocol: z.enum(["HBONE", "NONE"]),
  networkMode: z.enum(["STANDARD", "HOST_NETWORK"]).optional(),
  status: z.enum(["HEALTHY", "UNHEALTHY"]),
  waypoint: gateway.optional(),
  canonicalName: z.string(),
  canonicalRevision: z.string(),
  workloadName: z.string(),
  workloadType: z.string(),
  clusterId: z.string(),
  services: z.record(z.string(), portMap),
  authorizationPolicies: z.array(z.string()),
});

/** A Service as sent over xDS. */
export const serviceSchema = z.object({
  name,
  namespace: name,
  // ztunnel routes by exact host name and VIP; a wildcard host has neither meaning here.
  hostname: name.refine((h) => !h.includes("*"), "wildcard hosts are not supported by ztunnel"),
  vips: z.array(networkAddress),
  ports: portMap,
  subjectAltNames: z.array(z.string()),
  waypoint: gateway.optional(),
});

const stringMatch = z.union([
  z.object({ exact: z.string() }),
  z.object({ prefix: z.string() }),
  z.object({ suffix: z.string() }),
  z.object({ presence: z.literal(true) }),
]);
const range = z.object({ address: ip, length: z.number().int().min(0).max(128) });
const sa = z.object({ namespace: z.string(), serviceAccount: z.string() });
const match = z.object({
  namespaces: z.array(stringMatch),
  notNamespaces: z.array(stringMatch),
  serviceAccounts: z.array(sa),
  notServiceAccounts: z.array(sa),
  principals: z.array(stringMatch),
  notPrincipals: z.array(stringMatch),
  sourceIps: z.array(range),
  notSourceIps: z.array(range),
  destinationIps: z.array(range),
  notDestinationIps: z.array(range),
  destinationPorts: z.array(port),
  notDestinationPorts: z.array(port),
});

/** An Authorization as sent over xDS. */
export const authorizationSchema = z.object({
  name,
  namespace: z.string(),
  scope: z.enum(["GLOBAL", "NAMESPACE", "WORKLOAD_SELECTOR"]),
  action: z.enum(["ALLOW", "DENY"]),
  rules: z.array(z.array(z.array(match))),
  dryRun: z.boolean(),
});

/** The trust bundle resource. */
export const trustBundleSchema = z.object({ rootsPem: z.array(z.string().includes("BEGIN CERTIFICATE")).min(1) });

/** Checks one resource; returns it typed, or the problem (field path and message). */
export function checkResource<T>(schema: z.ZodType<T>, value: unknown): { ok: true; value: T } | { ok: false; message: string } {
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0]!;
  return { ok: false, message: `${issue.path.join(".") || "(resource)"}: ${issue.message}` };
}

export type { Authorization, Service, Workload };
