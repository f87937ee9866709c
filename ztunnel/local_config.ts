// istio/ztunnel's local config format (LOCAL_XDS_PATH): top-level `workloads`,
// `services`, `policies` with ztunnel's own field names and enum spellings, so a
// ztunnel user's file loads unchanged. See docs/ztunnel_local_config.md for the
// few places Ambit differs (defaults for identity fields, stricter policy matches).
import { isIP } from "node:net";
import { type Document, isScalar, parseDocument, visit } from "yaml";
import { z } from "zod";
import { type ConfigProblem, ConfigError } from "../config/errors.ts";
import { problemsFromZod } from "../config/zod_problems.ts";
import { isNamespaceName, isServiceAccountName, isTrustDomain } from "../identity/spiffe.ts";
import type {
  AddressRange, Authorization, DataPlaneSnapshot, GatewayAddress, NetworkAddress, PortMap, Service, StringMatch, Workload,
} from "../xds/resources.ts";

/** Largest config file accepted. */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;

const ipAddress = z.string().refine((s) => isIP(s) !== 0, { message: "must be an IP address" });
const port = z.number().int().min(0).max(65535);
const portMap = z.record(z.string(), port).superRefine((m, ctx) => {
  for (const k of Object.keys(m)) {
    if (!/^\d+$/.test(k) || Number(k) > 65535) ctx.addIssue({ code: "custom", path: [k], message: `port "${k}" must be a number from 0 to 65535` });
  }
}).transform((m): PortMap => Object.fromEntries(Object.entries(m).map(([k, v]) => [Number(k), v])));

const networkAddress = z.string().transform((s, ctx): NetworkAddress => {
  const slash = s.indexOf("/");
  const address = s.slice(slash + 1);
  if (slash < 0 || isIP(address) === 0) {
    ctx.addIssue({ code: "custom", message: `"${s}" must be "<network>/<ip>" ("/<ip>" for the default network)` });
    return z.NEVER;
  }
  return { network: s.slice(0, slash), address };
});

const gatewayAddress = z.strictObject({ destination: z.string(), hboneMtlsPort: port }).transform((g, ctx): GatewayAddress => {
  const slash = g.destination.indexOf("/");
  if (slash < 0) {
    ctx.addIssue({ code: "custom", path: ["destination"], message: `"${g.destination}" must be "<network>/<ip>" or "<namespace>/<hostname>"` });
    return z.NEVER;
  }
  const rest = g.destination.slice(slash + 1);
  const destination = isIP(rest) !== 0
    ? { kind: "address" as const, address: { network: g.destination.slice(0, slash), address: rest } }
    : { kind: "hostname" as const, namespace: g.destination.slice(0, slash), hostname: rest };
  return { destination, hboneMtlsPort: g.hboneMtlsPort };
});

const stringMatch = z.union([
  z.strictObject({ Exact: z.string() }).transform((m): StringMatch => ({ exact: m.Exact })),
  z.strictObject({ Prefix: z.string() }).transform((m): StringMatch => ({ prefix: m.Prefix })),
  z.strictObject({ Suffix: z.string() }).transform((m): StringMatch => ({ suffix: m.Suffix })),
  z.strictObject({ Presence: z.unknown() }).transform((): StringMatch => ({ presence: true })),
], { error: "must be one of {Exact: s}, {Prefix: s}, {Suffix: s}, {Presence: []}" });

const cidr = z.string().transform((s, ctx): AddressRange => {
  const [address, len, extra] = s.split("/");
  const family = isIP(address ?? "");
  const length = Number(len);
  if (extra !== undefined || family === 0 || !/^\d+$/.test(len ?? "") || length > (family === 4 ? 32 : 128)) {
    ctx.addIssue({ code: "custom", message: `"${s}" must be a CIDR such as "10.0.0.0/8"` });
    return z.NEVER;
  }
  return { address: address!, length };
});

const serviceAccountMatch = z.strictObject({ namespace: z.string(), serviceAccount: z.string() });
const list = <T extends z.ZodType>(t: T) => z.array(t).default([]);

// ztunnel ignores unknown keys here; Ambit refuses them, since a misspelt
// condition in a security policy must not pass silently.
const rbacMatch = z.strictObject({
  namespaces: list(stringMatch),
  notNamespaces: list(stringMatch),
  serviceAccounts: list(serviceAccountMatch),
  notServiceAccounts: list(serviceAccountMatch),
  principals: list(stringMatch),
  notPrincipals: list(stringMatch),
  sourceIps: list(cidr),
  notSourceIps: list(cidr),
  destinationIps: list(cidr),
  notDestinationIps: list(cidr),
  destinationPorts: list(port),
  notDestinationPorts: list(port),
});

const locality = z.strictObject({ region: z.string(), zone: z.string(), subzone: z.string() });

const localWorkload = z.strictObject({
  uid: z.string().default(""),
  name: z.string().default(""),
  namespace: z.string().refine(isNamespaceName, "must be a Kubernetes namespace name (a DNS label)"),
  serviceAccount: z.string().refine(isServiceAccountName, "must be a Kubernetes service account name (a DNS subdomain)").optional(),
  trustDomain: z.string().refine(isTrustDomain, "must be a trust domain (lower-case letters, digits, '.', '-', '_')").optional(),
  workloadIps: z.array(ipAddress),
  waypoint: gatewayAddress.nullish(),
  networkGateway: gatewayAddress.nullish(),
  protocol: z.enum(["TCP", "HBONE"]).default("TCP"),
  networkMode: z.enum(["Standard", "HostNetwork"]).default("Standard"),
  network: z.string().default(""),
  workloadName: z.string().default(""),
  workloadType: z.string().default(""),
  canonicalName: z.string().default(""),
  canonicalRevision: z.string().default(""),
  hostname: z.string().default(""),
  node: z.string().default(""),
  nativeTunnel: z.boolean().default(false),
  applicationTunnel: z.strictObject({ protocol: z.enum(["NONE", "PROXY"]), port: port.optional() }).nullish(),
  authorizationPolicies: list(z.string()),
  status: z.enum(["Healthy", "Unhealthy"]).default("Healthy"),
  clusterId: z.string().optional(),
  locality: locality.nullish(),
  capacity: z.number().int().min(0).default(1),
  // Required by ztunnel; Ambit lets a workload that backs no service leave it out.
  services: z.record(z.string(), portMap).superRefine((m, ctx) => {
    for (const key of Object.keys(m)) {
      if (!/^[^/]+\/.+$/.test(key)) ctx.addIssue({ code: "custom", path: [key], message: `"${key}" must be "<namespace>/<hostname>"` });
    }
  }).default({}),
});

const endpoint = z.strictObject({ workloadUid: z.string(), port: portMap, status: z.enum(["Healthy", "Unhealthy"]) });

const service = z.strictObject({
  name: z.string().min(1, "must not be empty"),
  namespace: z.string().min(1, "must not be empty"),
  hostname: z.string().min(1, "must not be empty"),
  vips: z.array(networkAddress),
  ports: portMap,
  endpoints: z.record(z.string(), endpoint).default({}),
  subjectAltNames: list(z.string()),
  waypoint: gatewayAddress.nullish(),
  loadBalancer: z.strictObject({
    routingPreferences: z.array(z.enum(["Region", "Zone", "Subzone", "Node", "Cluster", "Network"])),
    mode: z.enum(["Standard", "Strict", "Failover", "Passthrough"]),
    healthPolicy: z.enum(["OnlyHealthy", "AllowAll"]),
  }).nullish(),
  ipFamilies: z.enum(["Dual", "IPv4", "IPv6"]).nullish(),
});

const policy = z.strictObject({
  name: z.string().min(1, "must not be empty"),
  namespace: z.string(),
  scope: z.enum(["Global", "Namespace", "WorkloadSelector"]),
  action: z.enum(["Allow", "Deny"]),
  rules: z.array(z.array(z.array(rbacMatch))),
  // Required by the newest ztunnel, absent from its own example: optional here.
  dryRun: z.boolean().default(false),
});

const localConfig = z.strictObject({
  workloads: z.array(z.unknown()).nullish(),
  services: z.array(z.unknown()).nullish(),
  policies: z.array(z.unknown()).nullish(),
});

const STRING_MATCH_TAGS = new Set(["!Exact", "!Prefix", "!Suffix", "!Presence"]);

/**
 * serde_yaml writes ztunnel's StringMatch as tags (`!Exact foo`, `!Presence []`):
 * rewrite each tagged node, scalar or collection, into its map form `{Exact: foo}`.
 */
function untagStringMatches(doc: Document): void {
  visit(doc, {
    Node(_key, node) {
      if (!node.tag || !STRING_MATCH_TAGS.has(node.tag)) return undefined;
      const value = isScalar(node) ? node.value : (node as { toJSON(): unknown }).toJSON();
      return doc.createNode({ [node.tag.slice(1)]: value ?? [] });
    },
  });
}

/** Defaults Ambit fills where ztunnel's file leaves identity fields empty. */
export interface LocalConfigDefaults {
  readonly trustDomain: string;
}

/**
 * Parses and validates a ztunnel local config file. Throws {@link ConfigError}
 * listing every problem with its file, object and field; returns nothing partial.
 */
export function parseLocalConfig(text: string, file: string, defaults: LocalConfigDefaults): DataPlaneSnapshot {
  if (Buffer.byteLength(text) > MAX_FILE_BYTES) throw new ConfigError([{ file, field: "", message: `file is larger than ${MAX_FILE_BYTES} bytes` }]);
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => ({ file, field: "", message: `YAML: ${e.message.split("\n")[0]!.replace(/:$/, "")}` })));
  }
  untagStringMatches(doc);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (e) {
    throw new ConfigError([{ file, field: "", message: `YAML: ${(e as Error).message}` }]);
  }
  const top = localConfig.safeParse(raw);
  if (!top.success) throw new ConfigError(problemsFromZod(top.error, { file }));

  const problems: ConfigProblem[] = [];
  const parseEach = <T extends z.ZodType>(key: string, kind: string, schema: T, items: unknown[]): z.output<T>[] =>
    items.flatMap((item, i) => {
      const r = schema.safeParse(item);
      if (r.success) return [r.data];
      problems.push(...problemsFromZod(r.error, { file, object: describe(kind, item) }, [key, i]));
      return [];
    });
  const workloads = parseEach("workloads", "Workload", localWorkload, top.data.workloads ?? []);
  const services = parseEach("services", "Service", service, top.data.services ?? []);
  const policies = parseEach("policies", "Authorization", policy, top.data.policies ?? []);
  if (problems.length > 0) throw new ConfigError(problems);

  const snapshot = toSnapshot(workloads, services, policies, defaults);
  const conflicts = findConflicts(snapshot, file);
  if (conflicts.length > 0) throw new ConfigError(conflicts);
  return snapshot;
}

/** IPv6 in lower case, so lookups match however the file spelled it. */
function canonicalIp(address: string): string {
  return isIP(address) === 6 ? address.toLowerCase() : address;
}

function describe(kind: string, item: unknown): string {
  const o = (item ?? {}) as Record<string, unknown>;
  const name = typeof o.name === "string" && o.name ? o.name : typeof o.uid === "string" ? o.uid : "?";
  return typeof o.namespace === "string" ? `${kind} ${o.namespace}/${name}` : `${kind} ${name}`;
}

type LocalWorkload = z.output<typeof localWorkload>;
type LocalService = z.output<typeof service>;
type LocalPolicy = z.output<typeof policy>;

function toSnapshot(ws: LocalWorkload[], ss: LocalService[], ps: LocalPolicy[], defaults: LocalConfigDefaults): DataPlaneSnapshot {
  const workloads: Workload[] = ws.map((w) => ({
    uid: w.uid || `${w.clusterId ?? "Kubernetes"}//v1/Pod/${w.namespace}/${w.name}`,
    name: w.name,
    namespace: w.namespace,
    serviceAccount: w.serviceAccount || "default",
    trustDomain: w.trustDomain || defaults.trustDomain,
    addresses: w.workloadIps.map(canonicalIp),
    networkMode: w.networkMode === "HostNetwork" ? "HOST_NETWORK" : "STANDARD",
    network: w.network,
    node: w.node,
    tunnelProtocol: w.protocol === "HBONE" ? "HBONE" : "NONE",
    status: w.status === "Healthy" ? "HEALTHY" : "UNHEALTHY",
    waypoint: w.waypoint ?? undefined,
    canonicalName: w.canonicalName,
    canonicalRevision: w.canonicalRevision,
    workloadName: w.workloadName,
    workloadType: w.workloadType,
    clusterId: w.clusterId || "Kubernetes",
    services: { ...w.services },
    authorizationPolicies: w.authorizationPolicies,
  }));
  // Explicit service endpoints attach the service to the named workload, as ztunnel does.
  for (const s of ss) {
    for (const ep of Object.values(s.endpoints)) {
      const i = workloads.findIndex((w) => w.uid === ep.workloadUid);
      if (i >= 0) workloads[i] = { ...workloads[i]!, services: { ...workloads[i]!.services, [`${s.namespace}/${s.hostname}`]: ep.port } };
    }
  }
  const services: Service[] = ss.map((s) => ({
    name: s.name,
    namespace: s.namespace,
    hostname: s.hostname,
    vips: s.vips.map((v) => ({ network: v.network, address: canonicalIp(v.address) })),
    ports: s.ports,
    subjectAltNames: s.subjectAltNames,
    waypoint: s.waypoint ?? undefined,
  }));
  const policies: Authorization[] = ps.map((p) => ({
    name: p.name,
    namespace: p.namespace,
    scope: p.scope === "Global" ? "GLOBAL" : p.scope === "Namespace" ? "NAMESPACE" : "WORKLOAD_SELECTOR",
    action: p.action === "Allow" ? "ALLOW" : "DENY",
    rules: p.rules,
    dryRun: p.dryRun,
  }));
  return { workloads, services, policies };
}

/** Cross-object checks: duplicates and addresses claimed twice. */
function findConflicts(s: DataPlaneSnapshot, file: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Map<string, string>();
  const claim = (key: string, owner: string, field: string, what: string) => {
    const prior = seen.get(key);
    if (prior) problems.push({ file, object: owner, field, message: `${what} is already used by ${prior}` });
    else seen.set(key, owner);
  };
  s.workloads.forEach((w, i) => {
    const owner = `Workload ${w.namespace}/${w.name || w.uid}`;
    claim(`uid:${w.uid}`, owner, `workloads[${i}].uid`, `uid "${w.uid}"`);
    if (w.networkMode !== "HOST_NETWORK") {
      w.addresses.forEach((a, j) => claim(`ip:${w.network}/${a}`, owner, `workloads[${i}].workloadIps[${j}]`, `address ${w.network}/${a}`));
    }
  });
  s.services.forEach((svc, i) => {
    const owner = `Service ${svc.namespace}/${svc.name}`;
    claim(`svc:${svc.namespace}/${svc.hostname}`, owner, `services[${i}].hostname`, `hostname ${svc.namespace}/${svc.hostname}`);
    svc.vips.forEach((v, j) => claim(`ip:${v.network}/${v.address}`, owner, `services[${i}].vips[${j}]`, `address ${v.network}/${v.address}`));
  });
  s.policies.forEach((p, i) => claim(`policy:${p.namespace}/${p.name}`, `Authorization ${p.namespace}/${p.name}`, `policies[${i}].name`, `name ${p.namespace}/${p.name}`));
  return problems;
}
