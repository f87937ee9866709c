/**
 * A CUSTOM AuthorizationPolicy at a waypoint names an ext_authz provider of the
 * mesh config. One that names no `envoyExtAuthzHttp` provider there (a typo, a
 * provider missing from `--mesh-config`, or an `envoyExtAuthzGrpc` one, which
 * Ambit does not call yet) denies every request it matches, as in Istio: said
 * at apply time, since nothing else would tell the user why.
 *
 * @module
 */
import { describeObject, type KubeObject } from "../../config/objects.ts";
import { rec, spec, str } from "./_read.ts";
import type { ObjectWarning } from "./_types.ts";
import { hasTargetRefs } from "./l7_policy.ts";

/** A warning for each waypoint CUSTOM policy whose provider is not among `providers` (the mesh config's HTTP ext_authz names). */
export function customProviderWarnings(objects: readonly KubeObject[], providers: readonly { readonly name: string }[]): ObjectWarning[] {
  const known = new Set(providers.map((p) => p.name));
  const out: ObjectWarning[] = [];
  for (const o of objects) {
    if (o.kind !== "AuthorizationPolicy" || str(spec(o).action) !== "CUSTOM" || !hasTargetRefs(o)) continue;
    const name = str(rec(spec(o).provider).name) ?? "";
    if (known.has(name)) continue;
    out.push({
      object: describeObject(o),
      message: `provider ${JSON.stringify(name)} is not an envoyExtAuthzHttp extension provider of the mesh config (--mesh-config; ` +
        `envoyExtAuthzGrpc providers are not supported yet): every request this policy matches is denied`,
    });
  }
  return out;
}
