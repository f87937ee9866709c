/**
 * The waypoint's L7 policies in the controlplane's translation: which Service
 * each targets, what each waypoint receives, and the status every
 * targetRefs policy gets — `WaypointAccepted` (Istio's condition type) True
 * when a waypoint serves what it targets, False with `NoWaypoint` or
 * `TargetNotFound` otherwise, so `kubectl get -o yaml` / `ambit` shows at
 * once that nothing enforces a policy.
 *
 * @module
 */
import { type Condition, describeObject, type KubeObject, objectKey } from "../../config/objects.ts";
import type { ServiceL7Policy } from "../../xds/l7_policy_resources.ts";
import { groupObjects } from "./_objects.ts";
import { jwtRuleKeyProblem } from "../../config/jwt_keys.ts";
import { arr, rec, spec } from "./_read.ts";
import { serviceWaypoints } from "./_service_waypoints.ts";
import { addCondition, type ObjectWarning, type StatusMap, type TranslateOptions } from "./_types.ts";
import { hasTargetRefs, type L7PolicyWarning, translateL7Policies } from "./l7_policy.ts";

/** Istio's condition type for policies a waypoint enforces. */
export const WAYPOINT_ACCEPTED_CONDITION = "WaypointAccepted";

const L7_KINDS = new Set(["AuthorizationPolicy", "RequestAuthentication", "BackendTrafficPolicy"]);

/** What the L7 translation produces. */
export interface WaypointPolicyTranslation {
  /** Each waypoint ("namespace/name") → the ServiceL7Policy resources it enforces. */
  readonly byWaypoint: ReadonlyMap<string, readonly ServiceL7Policy[]>;
  readonly statuses: StatusMap;
  readonly warnings: readonly ObjectWarning[];
}

/** Translates every targetRefs policy, and says for each whether a waypoint enforces it. */
export function translateWaypointPolicies(objects: readonly KubeObject[], options: Pick<TranslateOptions, "trustDomain" | "clusterDomain">): WaypointPolicyTranslation {
  const { waypointOfService, serviceKey, gatewayServices } = serviceWaypoints(groupObjects(objects), options.clusterDomain);
  const l7 = objects.filter((o) => L7_KINDS.has(o.kind) && hasTargetRefs(o));
  const { policies, warnings } = translateL7Policies(l7, { serviceKey, gatewayServices, trustDomain: options.trustDomain });

  const byWaypoint = new Map<string, ServiceL7Policy[]>();
  for (const p of policies) {
    const wp = waypointOfService.get(p.service);
    if (!wp) continue;
    byWaypoint.set(wp, [...(byWaypoint.get(wp) ?? []), p]);
  }
  const statuses: StatusMap = new Map();
  const out: ObjectWarning[] = warnings.map((w: L7PolicyWarning) => ({ object: w.object, message: w.message }));
  for (const o of l7) {
    const named = describeObject(o);
    const problems = out.filter((w) => w.object === named).map((w) => w.message);
    const targets = policies.filter((p) => [...p.authorizations, ...p.requestAuthentications, ...p.rateLimits].some((x) => x.name === o.metadata.name && x.namespace === o.metadata.namespace && kindOf(p, x) === o.kind));
    const unenforced = targets.filter((t) => !waypointOfService.get(t.service)).map((t) => t.service);
    for (const s of unenforced) {
      const message = `Service ${s} has no waypoint: nothing enforces this policy (label the Service or its namespace with istio.io/use-waypoint)`;
      out.push({ object: named, message });
      problems.push(message);
    }
    if (o.kind === "RequestAuthentication") {
      for (const r of arr(spec(o).jwtRules)) {
        const problem = jwtRuleKeyProblem(rec(r));
        if (!problem) continue;
        out.push({ object: named, message: problem });
        problems.push(problem);
      }
    }
    const generation = o.metadata.generation;
    const ok = problems.length === 0 && targets.length > 0;
    const condition: Condition = {
      type: WAYPOINT_ACCEPTED_CONDITION,
      status: ok ? "True" : "False",
      reason: ok ? "Accepted" : targets.length === 0 ? "TargetNotFound" : unenforced.length > 0 ? "NoWaypoint" : "Invalid",
      message: ok ? `bound to ${[...new Set(targets.map((t) => waypointOfService.get(t.service)))].join(", ")}` : problems.join(" ") || "targets nothing a waypoint serves",
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    };
    addCondition(statuses, objectKey(o), condition);
  }
  return { byWaypoint, statuses, warnings: out };
}

function kindOf(p: ServiceL7Policy, x: object): string {
  if ((p.authorizations as readonly object[]).includes(x)) return "AuthorizationPolicy";
  if ((p.requestAuthentications as readonly object[]).includes(x)) return "RequestAuthentication";
  return "BackendTrafficPolicy";
}
