// PeerAuthentication at L4: a workload under an effective STRICT mode refuses
// plaintext, expressed as Istio does with one static DENY policy that matches
// any connection without a peer identity (istiod: ambient authorization.go).
import type { KubeObject } from "../../config/objects.ts";
import type { Authorization } from "../../xds/resources.ts";
import { EMPTY_MATCH } from "../../xds/resources.ts";
import { type Labels, labelMap, rec, selectsNonEmpty, spec, str } from "./_read.ts";

/** The static policy's name; `_` cannot appear in a Kubernetes name, so it never clashes. */
export const STATIC_STRICT_POLICY_NAME = "istio_converted_static_strict";

/** DENY any connection that has no peer principal (plaintext), for the workloads that reference it. */
export function staticStrictPolicy(rootNamespace: string): Authorization {
  return {
    name: STATIC_STRICT_POLICY_NAME, namespace: rootNamespace, scope: "WORKLOAD_SELECTOR", action: "DENY", dryRun: false,
    rules: [[[{ ...EMPTY_MATCH, notPrincipals: [{ presence: true }] }]]],
  };
}

const modeOf = (pa: KubeObject) => str(rec(spec(pa).mtls).mode) ?? "UNSET";
const selectorOf = (pa: KubeObject) => labelMap(rec(spec(pa).selector).matchLabels);
const hasSelector = (pa: KubeObject) => Object.keys(selectorOf(pa)).length > 0;
// When two policies compete, the oldest wins, as in Istio.
const age = (pa: KubeObject) => `${pa.metadata.creationTimestamp ?? ""}\u0000${pa.metadata.name}`;
const oldest = (list: readonly KubeObject[]) => [...list].sort((a, b) => (age(a) < age(b) ? -1 : age(a) > age(b) ? 1 : 0))[0];

/**
 * True when the effective mTLS mode for a workload is STRICT: the mesh policy (root namespace,
 * no selector), overridden by the namespace policy, overridden by a selecting workload policy;
 * UNSET inherits.
 */
export function isStrict(peerAuthentications: readonly KubeObject[], rootNamespace: string, namespace: string, labels: Labels): boolean {
  const mesh = oldest(peerAuthentications.filter((p) => p.metadata.namespace === rootNamespace && !hasSelector(p)));
  const ns = namespace === rootNamespace ? undefined : oldest(peerAuthentications.filter((p) => p.metadata.namespace === namespace && !hasSelector(p)));
  const workload = oldest(peerAuthentications.filter((p) =>
    p.metadata.namespace === namespace && namespace !== rootNamespace && selectsNonEmpty(selectorOf(p), labels)
  ));
  let strict = false;
  for (const pa of [mesh, ns, workload]) if (pa && modeOf(pa) !== "UNSET") strict = modeOf(pa) === "STRICT";
  return strict;
}

/** What Ambit does not translate from a PeerAuthentication. */
export function peerAuthenticationWarnings(pa: KubeObject): string[] {
  return Object.keys(rec(spec(pa).portLevelMtls)).length > 0
    ? ["portLevelMtls is not supported at L4 by Ambit: the policy's mtls.mode applies to every port"]
    : [];
}
