import { IdentityError } from "./errors.ts";

/** A workload identity in Istio's SPIFFE form: `spiffe://<td>/ns/<ns>/sa/<sa>`. */
export interface SpiffeId {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

const PREFIX = "spiffe://";
// DNS-ish trust domain (SPIFFE allows lowercase letters, digits, dots, dashes, underscores).
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
// Kubernetes names: namespace is a DNS label, service account a DNS subdomain.
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SERVICE_ACCOUNT = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** True for a name a SPIFFE id can carry as its namespace (a DNS label). */
export const isNamespaceName = (s: string): boolean => NAMESPACE.test(s);
/** True for a name a SPIFFE id can carry as its service account (a DNS subdomain's characters). */
export const isServiceAccountName = (s: string): boolean => SERVICE_ACCOUNT.test(s);
/** True for a trust domain a SPIFFE id can carry. */
export const isTrustDomain = (s: string): boolean => TRUST_DOMAIN.test(s);

function invalid(input: string, part: string, why: string): IdentityError {
  return new IdentityError("ERR_SPIFFE_ID_INVALID", `invalid SPIFFE id "${input}": ${part} ${why}`);
}

/** Checks the parts of an identity, throwing an error that names the bad part. */
export function validateSpiffeId(id: SpiffeId, input = formatSpiffeId(id)): SpiffeId {
  if (!TRUST_DOMAIN.test(id.trustDomain)) throw invalid(input, "trust domain", `"${id.trustDomain}" is not a valid trust domain`);
  if (!NAMESPACE.test(id.namespace)) throw invalid(input, "namespace", `"${id.namespace}" is not a valid namespace name`);
  if (!SERVICE_ACCOUNT.test(id.serviceAccount)) {
    throw invalid(input, "service account", `"${id.serviceAccount}" is not a valid service account name`);
  }
  return id;
}

/**
 * Parses `spiffe://<td>/ns/<ns>/sa/<sa>`.
 *
 * @example
 * ```ts
 * parseSpiffeId("spiffe://cluster.local/ns/default/sa/sleep").serviceAccount; // "sleep"
 * ```
 */
export function parseSpiffeId(input: string): SpiffeId {
  if (!input.startsWith(PREFIX)) throw invalid(input, "scheme", `must be "spiffe://"`);
  const rest = input.slice(PREFIX.length);
  const slash = rest.indexOf("/");
  if (slash <= 0) throw invalid(input, "trust domain", "is missing");
  const trustDomain = rest.slice(0, slash);
  const segments = rest.slice(slash + 1).split("/");
  if (segments.length !== 4 || segments[0] !== "ns" || segments[2] !== "sa") {
    throw invalid(input, "path", `must be "/ns/<namespace>/sa/<service-account>"`);
  }
  return Object.freeze(validateSpiffeId({ trustDomain, namespace: segments[1]!, serviceAccount: segments[3]! }, input));
}

/** Formats an identity as its `spiffe://` URI. */
export function formatSpiffeId(id: SpiffeId): string {
  return `${PREFIX}${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

/** Builds a validated identity from its parts. */
export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): SpiffeId {
  return Object.freeze(validateSpiffeId({ trustDomain, namespace, serviceAccount }));
}

/** The policy spelling of an identity: the SPIFFE URI without `spiffe://`. */
export function principalOf(id: SpiffeId): string {
  return formatSpiffeId(id).slice(PREFIX.length);
}

/** True when both name the same identity. */
export function sameSpiffeId(a: SpiffeId, b: SpiffeId): boolean {
  return a.trustDomain === b.trustDomain && a.namespace === b.namespace && a.serviceAccount === b.serviceAccount;
}
