// v1 Namespace: cluster-scoped; its labels enroll workloads (istio.io/dataplane-mode).
import { z } from "zod";
import { anyStatus, envelope } from "./_meta.ts";

/** A whole Namespace object: cluster-scoped, its name a DNS label. */
export const NamespaceSchema = z.strictObject({
  ...envelope(["v1"], "Namespace", { namespaced: false, nameRule: "label" }),
  spec: z.strictObject({ finalizers: z.array(z.string()).optional() }).optional(),
  status: anyStatus,
});

/** A Kubernetes Namespace as Ambit stores it. */
export type Namespace = z.output<typeof NamespaceSchema>;
