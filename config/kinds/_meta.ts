// The parts every kind shares: apiVersion, kind and ObjectMeta.
import { z } from "zod";
import { annotationMap, dns1035Label, dnsLabel, dnsSubdomain, labelMap } from "./_common.ts";

/** How the API server validates a kind's metadata.name. */
export type NameRule = "subdomain" | "label" | "dns1035";

const NAME_RULES = { subdomain: dnsSubdomain, label: dnsLabel, dns1035: dns1035Label } as const;

/**
 * ObjectMeta as users write it, plus the fields `kubectl get -o yaml` adds, so
 * an exported object reads back. The namespace of a namespaced kind is filled
 * in by the intake before validation.
 */
export function objectMeta(namespaced: boolean, nameRule: NameRule = "subdomain") {
  return z.strictObject({
    name: NAME_RULES[nameRule],
    namespace: namespaced
      ? dnsLabel
      : z.undefined({ error: "must not be set: this kind is cluster-scoped" }).optional(),
    labels: labelMap.optional(),
    annotations: annotationMap.optional(),
    resourceVersion: z.string().optional(),
    generation: z.number().int().min(0).optional(),
    uid: z.string().optional(),
    creationTimestamp: z.string().optional(),
    // Written by the API server and by kubectl; kept as-is, never read.
    generateName: z.string().optional(),
    ownerReferences: z.array(z.record(z.string(), z.unknown())).optional(),
    finalizers: z.array(z.string()).optional(),
    managedFields: z.array(z.unknown()).optional(),
  }).superRefine((meta, ctx) => {
    // apimachinery ValidateAnnotations: keys and values together at most 256 KiB.
    const size = Object.entries(meta.annotations ?? {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    if (size > TOTAL_ANNOTATION_SIZE_LIMIT) {
      ctx.addIssue({ code: "custom", path: ["annotations"], message: `may not be more than ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes in all (256 KiB), not ${size}` });
    }
  });
}

/** apimachinery's TotalAnnotationSizeLimitB. */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** `apiVersion`, `kind` and `metadata` of a kind: spread into its strict object schema. */
export function envelope<const K extends string, const V extends readonly [string, ...string[]]>(
  apiVersions: V,
  kind: K,
  options: { namespaced: boolean; nameRule?: NameRule },
) {
  return {
    apiVersion: z.enum(apiVersions),
    kind: z.literal(kind),
    metadata: objectMeta(options.namespaced, options.nameRule),
  };
}

/** Status is written by controllers, not users: stored as-is where a kind does not read it. */
export const anyStatus = z.unknown().optional();
