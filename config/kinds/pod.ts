// v1 Pod: a workload. Pods carry many fields Ambit never reads (volumes,
// probes, resources…), so spec, containers and status accept unknown fields;
// the fields Ambit reads are still checked.
import { z } from "zod";
import { dnsSubdomain, ipAddress, port } from "./_common.ts";
import { envelope } from "./_meta.ts";

/** A container: name, image and ports checked, other fields kept as written. */
export const ContainerSchema = z.looseObject({
  name: z.string().min(1),
  image: z.string().optional(),
  ports: z.array(z.looseObject({
    name: z.string().optional(),
    containerPort: port,
    protocol: z.enum(["TCP", "UDP", "SCTP"]).optional(),
  })).optional(),
});

/** Pod `spec`: the fields Ambit reads are checked, the rest kept as written. */
export const PodSpecSchema = z.looseObject({
  nodeName: z.string().optional(),
  serviceAccountName: dnsSubdomain.optional(),
  hostNetwork: z.boolean().optional(),
  containers: z.array(ContainerSchema).min(1),
});

/** Pod `status`: phase and addresses checked, the rest kept as written. */
export const PodStatusSchema = z.looseObject({
  phase: z.enum(["Pending", "Running", "Succeeded", "Failed", "Unknown"]).optional(),
  podIP: ipAddress.optional(),
  podIPs: z.array(z.looseObject({ ip: ipAddress })).optional(),
  hostIP: ipAddress.optional(),
  conditions: z.array(z.record(z.string(), z.unknown())).optional(),
});

/** A whole Pod object. */
export const PodSchema = z.strictObject({
  ...envelope(["v1"], "Pod", { namespaced: true }),
  spec: PodSpecSchema,
  status: PodStatusSchema.optional(),
});

/** A Kubernetes Pod as Ambit stores it. */
export type Pod = z.output<typeof PodSchema>;
