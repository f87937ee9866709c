// Field schemas shared by several kinds: names, labels, addresses, ports,
// selectors and policy target references, validated as the Kubernetes API
// server and istiod validate them.
import { isIP } from "node:net";
import { z } from "zod";

const LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_RE = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const HOSTNAME_RE = /^(\*\.)?[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*$/;

const quote = (s: string) => JSON.stringify(s.length > 80 ? s.slice(0, 77) + "..." : s);

/** True for a DNS-1123 label: lower-case alphanumerics and '-', at most 63 characters. */
export const isDnsLabel = (s: string): boolean => s.length <= 63 && LABEL_RE.test(s);
/** True for a DNS-1123 subdomain: dot-separated labels, at most 253 characters. */
export const isDnsSubdomain = (s: string): boolean => s.length <= 253 && SUBDOMAIN_RE.test(s);

/** A DNS-1123 label (namespace names, port names). */
export const dnsLabel = z.string().refine(isDnsLabel, {
  error: (i) => `${quote(String(i.input))} must be a DNS label: lower-case letters, digits and '-', at most 63 characters`,
});
/** A DNS-1123 subdomain (most object names). */
export const dnsSubdomain = z.string().refine(isDnsSubdomain, {
  error: (i) => `${quote(String(i.input))} must be a DNS subdomain: lower-case letters, digits, '-' and '.', at most 253 characters`,
});
/** Service names are DNS-1035 labels (they must start with a letter). */
export const dns1035Label = z.string().refine((s) => s.length <= 63 && DNS1035_RE.test(s), {
  error: (i) => `${quote(String(i.input))} must start with a lower-case letter and contain only lower-case letters, digits and '-' (at most 63)`,
});

/** A hostname such as `reviews.default.svc.cluster.local`, optionally `*.`-prefixed, or `*`. */
export const hostname = z.string().refine((s) => s === "*" || (s.length <= 253 && HOSTNAME_RE.test(s)), {
  error: (i) => `${quote(String(i.input))} must be a hostname such as "api.example.com" or "*.example.com"`,
});

function isQualifiedName(key: string): boolean {
  const slash = key.indexOf("/");
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (slash >= 0 && (slash === 0 || !isDnsSubdomain(key.slice(0, slash)))) return false;
  return name.length <= 63 && QUALIFIED_NAME_RE.test(name);
}

/** Label and annotation keys: `[prefix/]name`, the prefix a DNS subdomain. */
export const qualifiedName = z.string().refine(isQualifiedName, {
  error: (i) => `key ${quote(String(i.input))} must be "name" or "prefix/name" (name: letters, digits, '-', '_', '.', at most 63)`,
});
/** A label value: empty, or at most 63 alphanumerics, '-', '_', '.'. */
export const labelValue = z.string().refine((s) => s.length <= 63 && LABEL_VALUE_RE.test(s), {
  error: (i) => `${quote(String(i.input))} must be at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric`,
});
/** `labels`, `matchLabels`, `selector`: string → string, both validated as Kubernetes labels. */
export const labelMap = z.record(qualifiedName, labelValue);
/** `annotations`: qualified-name keys, any string values. */
export const annotationMap = z.record(qualifiedName, z.string());

/** A TCP/UDP port number, 1 to 65535. */
export const port = z.number().int().min(1).max(65535);

/** True for an IPv4 or IPv6 address. */
export const isIpAddress = (s: string): boolean => isIP(s) !== 0;
/** An IPv4 or IPv6 address. */
export const ipAddress = z.string().refine(isIpAddress, { error: (i) => `${quote(String(i.input))} must be an IP address` });

/** True for an IP address or a CIDR block such as `10.0.0.0/8`. */
export function isIpOrCidr(s: string): boolean {
  const [address, length, extra] = s.split("/");
  const family = isIP(address ?? "");
  if (family === 0 || extra !== undefined) return false;
  return length === undefined || (/^\d{1,3}$/.test(length) && Number(length) <= (family === 4 ? 32 : 128));
}
/** An IP address or a CIDR block (`ipBlocks`, ServiceEntry `addresses`). */
export const ipOrCidr = z.string().refine(isIpOrCidr, {
  error: (i) => `${quote(String(i.input))} must be an IP address or a CIDR block such as "10.0.0.0/8"`,
});

/** Istio's WorkloadSelector: `{matchLabels}`. */
export const workloadSelector = z.strictObject({ matchLabels: labelMap.optional() });

/** Kubernetes LabelSelector: matchLabels and matchExpressions. */
export const labelSelector = z.strictObject({
  matchLabels: labelMap.optional(),
  matchExpressions: z.array(z.strictObject({
    key: qualifiedName,
    operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]),
    values: z.array(z.string()).optional(),
  })).optional(),
});

/** Istio's PolicyTargetReference (`targetRef`, `targetRefs[]`). */
export const policyTargetRef = z.strictObject({
  group: z.string().optional(),
  kind: z.string().min(1),
  name: z.string().min(1),
  namespace: z.string().optional(),
});

const TARGET_KINDS = new Set(["gateway.networking.k8s.io/Gateway", "gateway.networking.k8s.io/GatewayClass", "/Service", "networking.istio.io/ServiceEntry"]);

/** What istiod accepts as a policy target: a Gateway, GatewayClass, Service or ServiceEntry. */
export function checkTargetRef(ref: { group?: string; kind: string }, ctx: z.RefinementCtx, path: PropertyKey[]): void {
  if (!TARGET_KINDS.has(`${ref.group ?? ""}/${ref.kind}`)) {
    ctx.addIssue({
      code: "custom", path: [...path, "kind"],
      message: `must be one of gateway.networking.k8s.io Gateway or GatewayClass, core Service (group ""), networking.istio.io ServiceEntry; got ${ref.group ?? ""}/${ref.kind}`,
    });
  }
}

/** Istio's selector and targetRef(s) exclude each other. */
export function checkPolicyScope(
  spec: { selector?: unknown; targetRef?: unknown; targetRefs?: readonly { group?: string; kind: string }[] },
  ctx: z.RefinementCtx,
): void {
  if (spec.selector !== undefined && (spec.targetRef !== undefined || spec.targetRefs !== undefined)) {
    ctx.addIssue({ code: "custom", path: ["selector"], message: "only one of selector, targetRef or targetRefs may be set" });
  }
  if (spec.targetRef !== undefined && spec.targetRefs !== undefined) {
    ctx.addIssue({ code: "custom", path: ["targetRef"], message: "only one of targetRef or targetRefs may be set" });
  }
  if (spec.targetRef) checkTargetRef(spec.targetRef as { kind: string }, ctx, ["targetRef"]);
  spec.targetRefs?.forEach((r, i) => checkTargetRef(r, ctx, ["targetRefs", i]));
}

/** A list whose items must not repeat on `key`, as `+listType=map` lists in Kubernetes. */
export function checkUnique<T>(items: readonly T[] | undefined, key: (t: T) => unknown, ctx: z.RefinementCtx, path: PropertyKey[], what: string): void {
  const seen = new Map<unknown, number>();
  items?.forEach((item, i) => {
    const k = key(item);
    if (k === undefined) return;
    const first = seen.get(k);
    if (first !== undefined) ctx.addIssue({ code: "custom", path: [...path, i], message: `${what} ${JSON.stringify(k)} is already used by item ${first}` });
    else seen.set(k, i);
  });
}
