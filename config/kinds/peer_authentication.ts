// security.istio.io PeerAuthentication: whether a workload accepts plaintext.
import { z } from "zod";
import { workloadSelector } from "./_common.ts";
import { anyStatus, envelope } from "./_meta.ts";
import { ISTIO_SECURITY_VERSIONS } from "./authorization_policy.ts";

const mtls = z.strictObject({ mode: z.enum(["UNSET", "DISABLE", "PERMISSIVE", "STRICT"]).optional() });

const portKey = z.string().refine((k) => /^\d{1,5}$/.test(k) && Number(k) >= 1 && Number(k) <= 65535, {
  error: (i) => `port ${JSON.stringify(i.input)} must be a number from 1 to 65535`,
});

/** PeerAuthentication `spec`: mTLS mode, per port where a selector is set. */
export const PeerAuthenticationSpecSchema = z.strictObject({
  selector: workloadSelector.optional(),
  mtls: mtls.optional(),
  /** Keyed by the workload's port (a YAML number key reads as its string). */
  portLevelMtls: z.record(portKey, mtls).optional(),
}).superRefine((spec, ctx) => {
  const selects = Object.keys(spec.selector?.matchLabels ?? {}).length > 0;
  if (spec.portLevelMtls && !selects) {
    ctx.addIssue({ code: "custom", path: ["portLevelMtls"], message: "needs a selector with matchLabels: a namespace or mesh-wide policy cannot set port-level mTLS" });
  } else if (spec.portLevelMtls && Object.keys(spec.portLevelMtls).length === 0) {
    ctx.addIssue({ code: "custom", path: ["portLevelMtls"], message: "must not be empty: leave it out instead" });
  }
});

/** A whole PeerAuthentication object. */
export const PeerAuthenticationSchema = z.strictObject({
  ...envelope(ISTIO_SECURITY_VERSIONS, "PeerAuthentication", { namespaced: true }),
  spec: PeerAuthenticationSpecSchema.prefault({}),
  status: anyStatus,
});

/** An Istio PeerAuthentication as Ambit stores it. */
export type PeerAuthentication = z.output<typeof PeerAuthenticationSchema>;
