// What a Pod says about itself: addresses, health, and the names telemetry
// uses (istiod: ambient workloads.go, pkg/kube/labels CanonicalService).
import type { KubeObject } from "../../config/objects.ts";
import type { HealthStatus } from "../../xds/resources.ts";
import { arr, isAddress, type Labels, labelsOf, portNumber, rec, spec, status, str } from "./_read.ts";

/** status.podIPs, else status.podIP; only literal addresses. */
export function podAddresses(pod: KubeObject): string[] {
  const s = status(pod);
  const listed = arr(s.podIPs).map((p) => str(rec(p).ip) ?? "");
  const ips = listed.length > 0 ? listed : [str(s.podIP) ?? ""];
  return [...new Set(ips.filter(isAddress))];
}

/** Succeeded and Failed pods are gone for good: they are not workloads. */
export function podTerminated(pod: KubeObject): boolean {
  const phase = str(status(pod).phase);
  return phase === "Succeeded" || phase === "Failed";
}

/** HEALTHY when Running and Ready (a Running pod that reports no Ready condition counts as ready). */
export function podHealth(pod: KubeObject): HealthStatus {
  const s = status(pod);
  if (str(s.phase) !== "Running" || (pod.metadata as { deletionTimestamp?: unknown }).deletionTimestamp) return "UNHEALTHY";
  const ready = arr(s.conditions).map(rec).find((c) => c.type === "Ready");
  return !ready || ready.status === "True" ? "HEALTHY" : "UNHEALTHY";
}

/** The number of the container port called `name`, if a container declares one. */
export function containerPort(pod: KubeObject, name: string): number | undefined {
  for (const c of arr(spec(pod).containers)) {
    for (const p of arr(rec(c).ports)) if (rec(p).name === name) return portNumber(rec(p).containerPort);
  }
  return undefined;
}

/**
 * The workload a pod belongs to, from its name alone (Ambit reads no owner references): a
 * Deployment's pod `<deployment>-<pod-template-hash>-<suffix>` belongs to `<deployment>`.
 */
export function podWorkload(pod: KubeObject): { name: string; type: "deployment" | "pod" } {
  const name = pod.metadata.name;
  const hash = labelsOf(pod)["pod-template-hash"];
  if (hash) {
    const m = new RegExp(`^(.+)-${escape(hash)}-[a-z0-9]+$`).exec(name) ?? /^(.+)-[a-z0-9]+-[a-z0-9]+$/.exec(name);
    if (m) return { name: m[1]!, type: "deployment" };
  }
  return { name, type: "pod" };
}

/** Canonical service name and revision, as Istio derives them from labels. */
export function canonicalService(labels: Labels, workloadName: string): { name: string; revision: string } {
  return {
    name: labels["service.istio.io/canonical-name"] || labels["app.kubernetes.io/name"] || labels.app || workloadName,
    revision: labels["service.istio.io/canonical-revision"] || labels["app.kubernetes.io/version"] || labels.version || "latest",
  };
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
