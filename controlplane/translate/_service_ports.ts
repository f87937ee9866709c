// The port map a workload declares for a Service it backs: service port →
// the workload's port (istiod: ambient workloads.go constructServices and
// constructServicesFromWorkloadEntry).
import type { KubeObject } from "../../config/objects.ts";
import type { PortMap } from "../../xds/resources.ts";
import { portsOf } from "./_kube_service.ts";

/**
 * Resolves each port of `svc` against one workload, whose ports are found by name with `namedPort`
 * (a pod's container ports, a WorkloadEntry's `ports` map).
 *
 * - Service, named targetPort: the workload's port of that name; a workload without one does not
 *   serve that port (it is left out).
 * - Service, numeric or absent targetPort: that number (absent means the service port); a
 *   WorkloadEntry may override it with a port named like the service port.
 * - ServiceEntry: the workload's port named like the service port, else targetPort, else the port.
 */
export function workloadPortMap(svc: KubeObject, namedPort: (name: string) => number | undefined, isWorkloadEntry: boolean): PortMap {
  const out: Record<number, number> = {};
  for (const p of portsOf(svc)) {
    if (svc.kind === "ServiceEntry") {
      out[p.port] = (p.name ? namedPort(p.name) : undefined) ?? (typeof p.targetPort === "number" ? p.targetPort : p.port);
      continue;
    }
    if (typeof p.targetPort === "string") {
      const target = namedPort(p.targetPort);
      if (target !== undefined) out[p.port] = target;
      continue;
    }
    const target = p.targetPort ?? p.port;
    out[p.port] = (isWorkloadEntry && p.name ? namedPort(p.name) : undefined) ?? target;
  }
  return out;
}
