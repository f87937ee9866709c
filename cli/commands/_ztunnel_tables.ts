// The tables of `ambit ztunnel-config`, shaped like istioctl's: one function
// per section, each from the data the ztunnel admin API returned.
import type { Authorization, GatewayAddress, Service, Workload } from "../../xds/resources.ts";
import type { Io } from "../io.ts";
import { age, table } from "../output.ts";
import type { ConfigDump } from "../ztunnel_admin.ts";

/** A connection from /debug/connections, with the node that reported it. */
export interface NodeConnection {
  readonly node: string;
  readonly direction: string;
  readonly source: { address: string; port: number };
  readonly destination: { address: string; port: number };
  readonly sourceIdentity?: string;
  readonly destinationIdentity?: string;
  readonly protocol: string;
  readonly startedAt: string;
}

/** A certificate from /config_dump, with its node. */
export type NodeCertificate = ConfigDump["certificates"][number] & { readonly node: string };

const waypoint = (w: GatewayAddress | undefined) =>
  !w ? "None" : w.destination.kind === "address" ? `${w.destination.address.address}:${w.hboneMtlsPort}` : `${w.destination.hostname}:${w.hboneMtlsPort}`;

export function workloadTable(workloads: readonly Workload[], io: Io): string {
  const rows = [...workloads].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name))
    .map((w) => [w.namespace, w.name, w.addresses.join(","), w.node, waypoint(w.waypoint), w.tunnelProtocol, w.status]);
  return table(["NAMESPACE", "NAME", "ADDRESS", "NODE", "WAYPOINT", "PROTOCOL", "STATUS"], rows, (v, i) => i === 6 && v.startsWith("UNHEALTHY") ? io.color.red(v) : v);
}

export function serviceTable(services: readonly Service[], workloads: readonly Workload[]): string {
  const rows = [...services].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.hostname.localeCompare(b.hostname)).map((s) => {
    const backing = workloads.filter((w) => w.services[`${s.namespace}/${s.hostname}`] !== undefined);
    const healthy = backing.filter((w) => w.status === "HEALTHY").length;
    const ports = Object.entries(s.ports).map(([p, t]) => (Number(t) && Number(t) !== Number(p) ? `${p}→${t}` : p)).join(",");
    return [s.namespace, s.hostname, s.vips.map((v) => v.address).join(","), ports, waypoint(s.waypoint), `${healthy}/${backing.length}`];
  });
  return table(["NAMESPACE", "SERVICE NAME", "SERVICE VIP", "PORTS", "WAYPOINT", "ENDPOINTS"], rows);
}

export function policyTable(policies: readonly Authorization[]): string {
  const rows = [...policies].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name))
    .map((p) => [p.namespace, p.name, p.action, p.scope, String(p.rules.length), p.dryRun ? "yes" : "no"]);
  return table(["NAMESPACE", "POLICY NAME", "ACTION", "SCOPE", "RULES", "DRY RUN"], rows);
}

export function certificateTable(certs: readonly NodeCertificate[], io: Io): string {
  const rows = certs.map((c) => [c.node, c.identity, c.state, c.serialNumber, c.notBefore, c.notAfter]);
  return table(["NODE", "IDENTITY", "STATE", "SERIAL NUMBER", "NOT BEFORE", "NOT AFTER"], rows, (v, i) => i === 2 && !v.startsWith("available") ? io.color.yellow(v) : v);
}

export function connectionTable(connections: readonly NodeConnection[]): string {
  const rows = connections.map((c) => [
    c.node, c.direction, `${c.source.address}:${c.source.port}`, `${c.destination.address}:${c.destination.port}`,
    c.sourceIdentity, c.destinationIdentity, c.protocol, age(c.startedAt),
  ]);
  return table(["NODE", "DIRECTION", "SOURCE", "DESTINATION", "SOURCE IDENTITY", "DESTINATION IDENTITY", "PROTOCOL", "AGE"], rows);
}
