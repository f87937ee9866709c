// v1 ServiceAccount: the identity (`ns/<namespace>/sa/<name>`) workloads run as.
import { z } from "zod";
import { envelope } from "./_meta.ts";

const objectReference = z.looseObject({ name: z.string().optional() });

/** A whole ServiceAccount object. */
export const ServiceAccountSchema = z.strictObject({
  ...envelope(["v1"], "ServiceAccount", { namespaced: true }),
  secrets: z.array(objectReference).optional(),
  imagePullSecrets: z.array(objectReference).optional(),
  automountServiceAccountToken: z.boolean().optional(),
});

/** A Kubernetes ServiceAccount as Ambit stores it. */
export type ServiceAccount = z.output<typeof ServiceAccountSchema>;
