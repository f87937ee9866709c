// security.istio.io RequestAuthentication: which JWTs a workload or waypoint accepts.
import { z } from "zod";
import { checkPolicyScope, policyTargetRef, workloadSelector } from "./_common.ts";
import { anyStatus, envelope } from "./_meta.ts";
import { ISTIO_SECURITY_VERSIONS } from "./authorization_policy.ts";

const HEADER_NAME_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const headerName = z.string().refine((h) => HEADER_NAME_RE.test(h), { error: (i) => `${JSON.stringify(i.input)} must be an HTTP header name` });

const jwksUri = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return (u.protocol === "https:" || u.protocol === "http:") && u.hostname !== "";
  } catch {
    return false;
  }
}, { error: (i) => `${JSON.stringify(i.input)} must be an http:// or https:// URL` });

const jwks = z.string().refine((s) => {
  try {
    const v = JSON.parse(s) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}, "must be a JSON Web Key Set (a JSON object)");

/** `spec.jwtRules[]`: an issuer and where its keys and tokens are found. */
export const JwtRuleSchema = z.strictObject({
  issuer: z.string().min(1, "must not be empty"),
  audiences: z.array(z.string().min(1, "must not be empty")).optional(),
  jwksUri: jwksUri.optional(),
  jwks: jwks.optional(),
  fromHeaders: z.array(z.strictObject({ name: headerName, prefix: z.string().optional() })).optional(),
  fromParams: z.array(z.string().min(1, "must not be empty")).optional(),
  fromCookies: z.array(z.string().min(1, "must not be empty")).optional(),
  outputPayloadToHeader: headerName.optional(),
  forwardOriginalToken: z.boolean().optional(),
  outputClaimToHeaders: z.array(z.strictObject({ header: headerName, claim: z.string().min(1, "must not be empty") })).optional(),
  timeout: z.string().regex(/^(\d+(\.\d+)?(h|m|s|ms))+$/, "must be a duration such as \"5s\"").optional(),
});

/** RequestAuthentication `spec`. */
export const RequestAuthenticationSpecSchema = z.strictObject({
  selector: workloadSelector.optional(),
  targetRef: policyTargetRef.optional(),
  targetRefs: z.array(policyTargetRef).optional(),
  jwtRules: z.array(JwtRuleSchema).optional(),
}).superRefine(checkPolicyScope);

/** A whole RequestAuthentication object. */
export const RequestAuthenticationSchema = z.strictObject({
  ...envelope(ISTIO_SECURITY_VERSIONS, "RequestAuthentication", { namespaced: true }),
  spec: RequestAuthenticationSpecSchema.prefault({}),
  status: anyStatus,
});

/** An Istio RequestAuthentication as Ambit stores it. */
export type RequestAuthentication = z.output<typeof RequestAuthenticationSchema>;
