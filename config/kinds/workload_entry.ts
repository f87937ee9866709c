// networking.istio.io WorkloadEntry: a workload outside Kubernetes (a VM, an
// edge host). Its spec is also the shape of ServiceEntry endpoints.
import { z } from "zod";
import { dnsSubdomain, isDnsSubdomain, isIpAddress, labelMap, port } from "./_common.ts";
import { anyStatus, envelope } from "./_meta.ts";

/** apiVersions served for networking.istio.io kinds, newest first. */
export const ISTIO_NETWORKING_VERSIONS = ["networking.istio.io/v1", "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3"] as const;

/** An IP, a hostname (resolved by DNS) or `unix://<path>`, as istiod accepts. */
export function isWorkloadAddress(s: string): boolean {
  if (isIpAddress(s)) return true;
  // A Unix socket: an absolute path or an abstract socket, never a directory.
  if (s.startsWith("unix://")) return /^unix:\/\/[/@]/.test(s) && !s.endsWith("/");
  // A name whose last label is numeric is a mistyped IP, not a hostname.
  return isDnsSubdomain(s.toLowerCase()) && !/(^|\.)\d+$/.test(s);
}

const address = z.string().refine(isWorkloadAddress, {
  error: (i) => `${JSON.stringify(i.input)} must be an IP address, a hostname or unix:///<absolute path>`,
});

/** The WorkloadEntry spec fields, shared with ServiceEntry `endpoints`. */
export const workloadEntryFields = {
  address: address.optional(),
  /** Service port name → this endpoint's port. */
  ports: z.record(z.string().regex(/^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/, "must be a port name: letters, digits and '-'").max(62), port).optional(),
  labels: labelMap.optional(),
  network: z.string().optional(),
  locality: z.string().optional(),
  weight: z.number().int().min(0).max(4294967295).optional(),
  serviceAccount: dnsSubdomain.optional(),
};

/** The CEL rules of Istio's CRD, shared with ServiceEntry endpoints. */
export function checkWorkloadEntry(spec: { address?: string; network?: string; ports?: object }, ctx: z.RefinementCtx, path: PropertyKey[] = []): void {
  if (!spec.address && !spec.network) ctx.addIssue({ code: "custom", path: [...path, "address"], message: "required unless network is set" });
  if (spec.address?.startsWith("unix://") && spec.ports) ctx.addIssue({ code: "custom", path: [...path, "ports"], message: "must not be set for a unix:// address" });
}

/** WorkloadEntry `spec`: an address unless a network is set. */
export const WorkloadEntrySpecSchema = z.strictObject(workloadEntryFields).superRefine((spec, ctx) => checkWorkloadEntry(spec, ctx));

/** A whole WorkloadEntry object. */
export const WorkloadEntrySchema = z.strictObject({
  ...envelope(ISTIO_NETWORKING_VERSIONS, "WorkloadEntry", { namespaced: true }),
  spec: WorkloadEntrySpecSchema,
  status: anyStatus,
});

/** An Istio WorkloadEntry as Ambit stores it. */
export type WorkloadEntry = z.output<typeof WorkloadEntrySchema>;
