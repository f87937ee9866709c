/**
 * AuthorizationPolicy → the L4 Authorization ztunnel enforces, following
 * istiod's ambient translation (pilot/pkg/serviceregistry/ambient/authorization.go)
 * and the rules in MESH_REFERENCE "L4 AuthorizationPolicy as ztunnel enforces it".
 *
 * @module
 */
import type { Condition, KubeObject } from "../../config/objects.ts";
import { DRY_RUN_ANNOTATION } from "../../config/objects.ts";
import type { Authorization, AuthorizationAction, AuthorizationScope } from "../../xds/resources.ts";
import { type Clause, translateRule } from "./_policy_rules.ts";
import { arr, type Labels, labelMap, rec, selectsNonEmpty, spec, str } from "./_read.ts";

/** The status condition type written on translated policies (Istio writes `ZtunnelAccepted`). */
export const POLICY_CONDITION_TYPE = "Accepted";
/** Istio's default root namespace. */
export const DEFAULT_ROOT_NAMESPACE = "istio-system";

/** What became of one AuthorizationPolicy at L4. */
export interface PolicyTranslation {
  /** What ztunnel enforces; absent when the policy is not for ztunnel (targetRefs) or not supported there. */
  readonly authorization?: Authorization;
  /** Problems to show the user; each also appears in `status.message`. */
  readonly warnings: readonly string[];
  /** The policy's condition; absent for targetRefs policies, whose status the waypoint writes. */
  readonly status?: Condition;
}

/**
 * Translates one AuthorizationPolicy (security.istio.io v1 or v1beta1) for ztunnel.
 *
 * @example
 * ```ts
 * const { authorization } = translateAuthorizationPolicy({
 *   apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy",
 *   metadata: { name: "allow-sleep", namespace: "default" },
 *   spec: { rules: [{ from: [{ source: { principals: ["cluster.local/ns/default/sa/sleep"] } }] }] },
 * });
 * // authorization.rules: [[[{ ...EMPTY_MATCH, principals: [{ exact: "cluster.local/ns/default/sa/sleep" }] }]]]
 * ```
 */
export function translateAuthorizationPolicy(policy: KubeObject, options: { readonly rootNamespace?: string } = {}): PolicyTranslation {
  const s = spec(policy);
  if (arr(s.targetRefs).length > 0 || Object.keys(rec(s.targetRef)).length > 0) return { warnings: [] };
  const namespace = policy.metadata.namespace ?? "";
  const generation = policy.metadata.generation;
  const condition = (ok: boolean, reason: string, message: string): Condition => ({
    type: POLICY_CONDITION_TYPE, status: ok ? "True" : "False", reason, message,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  });

  const action = str(s.action) ?? "ALLOW";
  if (action !== "ALLOW" && action !== "DENY") {
    const message = `action ${action} is not supported at L4: ztunnel does not enforce this policy`;
    return { warnings: [message], status: condition(false, "UnsupportedValue", message) };
  }
  const warnings: string[] = [];
  const dryRun = parseDryRun(policy.metadata.annotations?.[DRY_RUN_ANNOTATION], warnings);

  const rules: (readonly Clause[])[] = [];
  const l7 = new Set<string>();
  for (const rule of arr(s.rules)) {
    const t = translateRule(rule, action, namespace);
    if (t.clauses) rules.push(t.clauses);
    for (const f of t.l7Fields) l7.add(f);
  }
  if (l7.size > 0) warnings.push(l7Warning([...l7].sort(), action, rules.length > 0));

  const authorization: Authorization = {
    name: policy.metadata.name, namespace, scope: scopeOf(policy, options.rootNamespace ?? DEFAULT_ROOT_NAMESPACE), action, rules, dryRun,
  };
  const status = warnings.length > 0
    ? condition(true, "UnsupportedValue", warnings.join(" "))
    : condition(true, "Accepted", "attached to ztunnel");
  return { authorization, warnings, status };
}

/** The policy's `selector.matchLabels` when it has any (an empty selector is the same as none). */
export function policySelector(policy: KubeObject): Labels | undefined {
  const labels = labelMap(rec(spec(policy).selector).matchLabels);
  return Object.keys(labels).length > 0 ? labels : undefined;
}

/**
 * True when a selector policy selects a workload: its selector matches the labels, and it lives in
 * the workload's namespace or the root namespace (whose selector policies apply everywhere).
 */
export function policySelects(policy: KubeObject, rootNamespace: string, namespace: string, labels: Labels): boolean {
  const selector = policySelector(policy);
  const ns = policy.metadata.namespace;
  return !!selector && (ns === namespace || ns === rootNamespace) && selectsNonEmpty(selector, labels);
}

function scopeOf(policy: KubeObject, rootNamespace: string): AuthorizationScope {
  if (policySelector(policy)) return "WORKLOAD_SELECTOR";
  return policy.metadata.namespace === rootNamespace ? "GLOBAL" : "NAMESPACE";
}

// Go's strconv.ParseBool, as istiod reads the annotation.
const TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

function parseDryRun(value: string | undefined, warnings: string[]): boolean {
  if (value === undefined || value === "" || FALSE.has(value)) return false;
  if (TRUE.has(value)) return true;
  warnings.push(`annotation ${DRY_RUN_ANNOTATION}: "${value}" is not a boolean; the policy is enforced`);
  return false;
}

function l7Warning(fields: readonly string[], action: AuthorizationAction, rulesLeft: boolean): string {
  const head = `ztunnel cannot enforce L7 fields (found: ${fields.join(", ")}); deploy a waypoint and attach the policy to it ` +
    `with targetRefs to enforce them.`;
  if (action === "ALLOW") return `${head} Rules using them are left out of this ALLOW policy, so it allows less than written.`;
  if (!rulesLeft) return `${head} Without them no rule of this DENY policy can match, so it has no effect at ztunnel.`;
  return `${head} This DENY policy is enforced on the L4 conditions of its rules alone, so it denies more than written; ` +
    `a rule whose from, to or when entry has no L4 condition left never fires.`;
}
