// Reading Services and ServiceEntries: which ones ztunnel gets, their hostnames and ports.
import type { KubeObject } from "../../config/objects.ts";
import { arr, type Labels, labelMap, portNumber, rec, spec, str, strings } from "./_read.ts";

/** One port of a Service or ServiceEntry, with what names the workload port. */
export interface ServicePortSpec {
  readonly port: number;
  readonly name: string;
  /** A number, the name of a workload port, or undefined when the spec leaves it out. */
  readonly targetPort: number | string | undefined;
}

/** `<name>.<namespace>.svc.<clusterDomain>`. */
export function serviceHostname(name: string, namespace: string, clusterDomain: string): string {
  return `${name}.${namespace}.svc.${clusterDomain}`;
}

/** The selector of a Service (`spec.selector`) or ServiceEntry (`spec.workloadSelector.labels`). */
export function selectorOf(o: KubeObject): Labels {
  return o.kind === "ServiceEntry" ? labelMap(rec(spec(o).workloadSelector).labels) : labelMap(spec(o).selector);
}

/**
 * Services ztunnel gets: those with a cluster IP (ClusterIP, the default, and NodePort and
 * LoadBalancer, which build on it) and a selector; ExternalName has no endpoints to pick.
 */
export function isMeshService(svc: KubeObject): boolean {
  const type = str(spec(svc).type) ?? "ClusterIP";
  return type !== "ExternalName" && Object.keys(selectorOf(svc)).length > 0;
}

/** ServiceEntries ztunnel gets: MESH_INTERNAL ones and any that select workloads. */
export function isMeshServiceEntry(se: KubeObject): boolean {
  return str(spec(se).location) === "MESH_INTERNAL" || Object.keys(selectorOf(se)).length > 0;
}

/** The hostnames a Service or ServiceEntry answers to. */
export function hostnamesOf(o: KubeObject, clusterDomain: string): string[] {
  if (o.kind === "ServiceEntry") return [...new Set(strings(spec(o).hosts))];
  return [serviceHostname(o.metadata.name, o.metadata.namespace ?? "", clusterDomain)];
}

/** TCP ports of a Service (`port`, `targetPort`) or ServiceEntry (`number`, `targetPort`); ztunnel carries TCP only. */
export function portsOf(o: KubeObject): ServicePortSpec[] {
  const se = o.kind === "ServiceEntry";
  return arr(spec(o).ports).map(rec).flatMap((p): ServicePortSpec[] => {
    const port = portNumber(se ? p.number : p.port);
    if (port === undefined) return [];
    if (!se && (str(p.protocol) ?? "TCP") !== "TCP") return [];
    const t = p.targetPort;
    const targetPort = typeof t === "string" && !/^\d+$/.test(t) ? t : portNumber(t);
    return [{ port, name: str(p.name) ?? "", targetPort }];
  });
}
