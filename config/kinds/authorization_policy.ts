// security.istio.io AuthorizationPolicy, validated as istiod validates it
// (pilot/pkg/config/validation): what istiod rejects is an error here too.
import { z } from "zod";
import { checkPolicyScope, ipOrCidr, isDnsLabel, isDnsSubdomain, isIpOrCidr, policyTargetRef, workloadSelector } from "./_common.ts";
import { anyStatus, envelope } from "./_meta.ts";

/** apiVersions served for security.istio.io kinds, newest first. */
export const ISTIO_SECURITY_VERSIONS = ["security.istio.io/v1", "security.istio.io/v1beta1"] as const;

/** One `*`, only at the start or the end (`*` alone matches any value). */
function checkWildcard(s: string, ctx: z.RefinementCtx): void {
  const stars = s.split("*").length - 1;
  if (stars > 1 || (stars === 1 && !s.startsWith("*") && !s.endsWith("*"))) {
    ctx.addIssue({ code: "custom", message: `${JSON.stringify(s)} may contain one "*", only at its start or its end` });
  }
}

const principal = (field: string) => z.string().superRefine((s, ctx) => {
  if (s.startsWith("spiffe://")) ctx.addIssue({ code: "custom", message: `${field} must not include the spiffe:// prefix` });
  else checkWildcard(s, ctx);
});
const namespace = z.string().superRefine(checkWildcard);

const isPort = (s: string) => /^\d{1,5}$/.test(s) && Number(s) >= 1 && Number(s) <= 65535;
const portString = z.string().refine(isPort, { error: (i) => `${JSON.stringify(i.input)} must be a port number from 1 to 65535, written as a string` });

// istiod's CheckEmptyValues: an empty string in any list is an error, never "match nothing".
const list = <T extends z.ZodType<string, string>>(t: T) => z.array(z.string().min(1, "empty value not allowed").pipe(t)).optional();

/** `serviceAccounts`: `sa` (the policy's namespace) or `ns/sa`. */
const serviceAccount = z.string().refine((s) => {
  const [a, b, extra] = s.split("/");
  return extra === undefined && (b === undefined ? isDnsSubdomain(a!) : isDnsLabel(a!) && isDnsSubdomain(b));
}, { error: (i) => `${JSON.stringify(i.input)} must be "<service account>" or "<namespace>/<service account>"` });
/** istiod's limit on `serviceAccounts` per source. */
export const MAX_SERVICE_ACCOUNTS = 16;

/** `rules[].from[].source`: who is asking; at least one field must be set. */
export const SourceSchema = z.strictObject({
  principals: list(principal("principals")),
  notPrincipals: list(principal("notPrincipals")),
  requestPrincipals: list(z.string()),
  notRequestPrincipals: list(z.string()),
  namespaces: list(namespace),
  notNamespaces: list(namespace),
  serviceAccounts: list(serviceAccount),
  notServiceAccounts: list(serviceAccount),
  ipBlocks: list(ipOrCidr),
  notIpBlocks: list(ipOrCidr),
  remoteIpBlocks: list(ipOrCidr),
  notRemoteIpBlocks: list(ipOrCidr),
}).refine((s) => Object.values(s).some((v) => v !== undefined && v.length > 0), "must set at least one field").superRefine((s, ctx) => {
  const accounts = [...(s.serviceAccounts ?? []), ...(s.notServiceAccounts ?? [])];
  if (accounts.length > 0 && [s.principals, s.notPrincipals, s.namespaces, s.notNamespaces].some((l) => l?.length)) {
    ctx.addIssue({ code: "custom", path: [s.serviceAccounts?.length ? "serviceAccounts" : "notServiceAccounts"], message: "cannot be set together with principals or namespaces" });
  }
  for (const field of ["serviceAccounts", "notServiceAccounts"] as const) {
    if ((s[field]?.length ?? 0) > MAX_SERVICE_ACCOUNTS) ctx.addIssue({ code: "custom", path: [field], message: `may list at most ${MAX_SERVICE_ACCOUNTS} service accounts, not ${s[field]!.length}` });
  }
});

/** `rules[].to[].operation`: what is asked for; at least one field must be set. */
export const OperationSchema = z.strictObject({
  hosts: list(z.string()),
  notHosts: list(z.string()),
  ports: list(portString),
  notPorts: list(portString),
  methods: list(z.string()),
  notMethods: list(z.string()),
  paths: list(z.string()),
  notPaths: list(z.string()),
}).refine((o) => Object.values(o).some((v) => v !== undefined && v.length > 0), "must set at least one field");

const EXACT_KEYS = new Set([
  "source.ip", "remote.ip", "destination.ip", "destination.port", "source.namespace", "source.principal",
  "source.serviceAccount", "request.auth.principal", "request.auth.audiences", "request.auth.presenter", "connection.sni",
]);
const IP_KEYS = new Set(["source.ip", "remote.ip", "destination.ip"]);
const MAP_KEY_RE = /^(request\.headers|request\.auth\.claims)(\[[^\][]+\])+$/;

/** True for a `when` key istiod knows: `source.ip`, `request.headers[x-token]`, `experimental.*`… */
export function isKnownConditionKey(key: string): boolean {
  return EXACT_KEYS.has(key) || MAP_KEY_RE.test(key) || /^experimental\..+/.test(key);
}

/** `rules[].when[]`: an attribute and the values it must (not) have. */
export const ConditionSchema = z.strictObject({
  key: z.string().refine(isKnownConditionKey, {
    error: (i) => `unknown key ${JSON.stringify(i.input)}: use source.ip, source.namespace, source.principal, destination.ip, destination.port, remote.ip, ` +
      `request.auth.principal, request.auth.claims[...], request.headers[...], connection.sni or experimental.*`,
  }),
  values: list(z.string()),
  notValues: list(z.string()),
}).superRefine((c, ctx) => {
  if (!c.values?.length && !c.notValues?.length) ctx.addIssue({ code: "custom", message: "at least one of values or notValues must be set" });
  for (const field of ["values", "notValues"] as const) {
    c[field]?.forEach((v, i) => {
      if (IP_KEYS.has(c.key) && !isIpOrCidr(v)) ctx.addIssue({ code: "custom", path: [field, i], message: `${JSON.stringify(v)} must be an IP address or a CIDR block` });
      if (c.key === "destination.port" && !isPort(v)) ctx.addIssue({ code: "custom", path: [field, i], message: `${JSON.stringify(v)} must be a port number from 1 to 65535` });
    });
  }
});

const notEmpty = "must not be empty: leave it out to match anything";

/** One rule: its `from`, `to` and `when` clauses are ANDed. */
export const RuleSchema = z.strictObject({
  from: z.array(z.strictObject({ source: SourceSchema })).min(1, notEmpty).optional(),
  to: z.array(z.strictObject({ operation: OperationSchema })).min(1, notEmpty).optional(),
  when: z.array(ConditionSchema).optional(),
});

/** AuthorizationPolicy `spec`; `spec: {}` is allow-nothing. */
export const AuthorizationPolicySpecSchema = z.strictObject({
  selector: workloadSelector.optional(),
  targetRef: policyTargetRef.optional(),
  targetRefs: z.array(policyTargetRef).optional(),
  /** Absent means ALLOW. */
  action: z.enum(["ALLOW", "DENY", "AUDIT", "CUSTOM"]).default("ALLOW"),
  provider: z.strictObject({ name: z.string() }).optional(),
  /** Absent: the policy matches nothing (`spec: {}` is allow-nothing). */
  rules: z.array(RuleSchema).optional(),
}).superRefine((spec, ctx) => {
  checkPolicyScope(spec, ctx);
  if (spec.action === "CUSTOM") {
    if (!spec.provider) ctx.addIssue({ code: "custom", path: ["provider"], message: "required when action is CUSTOM" });
    else if (!spec.provider.name) ctx.addIssue({ code: "custom", path: ["provider", "name"], message: "must not be empty" });
    if (!spec.rules) ctx.addIssue({ code: "custom", path: ["rules"], message: "required when action is CUSTOM (a rule `{}` matches every request)" });
  } else if (spec.provider) {
    ctx.addIssue({ code: "custom", path: ["provider"], message: `only allowed with action CUSTOM, not ${spec.action}` });
  }
});

/** A whole AuthorizationPolicy object (security.istio.io v1 or v1beta1). */
export const AuthorizationPolicySchema = z.strictObject({
  ...envelope(ISTIO_SECURITY_VERSIONS, "AuthorizationPolicy", { namespaced: true }),
  spec: AuthorizationPolicySpecSchema.prefault({}),
  status: anyStatus,
});

/** An Istio AuthorizationPolicy as Ambit stores it; `spec.action` is filled in (ALLOW when absent). */
export type AuthorizationPolicy = z.output<typeof AuthorizationPolicySchema>;
