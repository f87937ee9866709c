/**
 * The names a user may give a kind on the command line, as kubectl accepts
 * them: `Pod`, `pod`, `pods`, `po`, `authorizationpolicies.security.istio.io`,
 * `ap`. Bare `gateway` means the Gateway API's (waypoints are those); Istio's
 * networking Gateway is `gateway.networking.istio.io` or `gw`.
 *
 * @example
 * ```ts
 * resolveKind("ap"); // { kind: "AuthorizationPolicy", group: "security.istio.io", … }
 * ```
 * @module
 */
import { groupKind, type KindInfo, KINDS } from "../config/kinds/mod.ts";
import { UsageError } from "./errors.ts";

const SHORT_NAMES: Readonly<Record<string, string>> = {
  po: "Pod", svc: "Service", ns: "Namespace", sa: "ServiceAccount",
  ap: "AuthorizationPolicy.security.istio.io", pa: "PeerAuthentication.security.istio.io",
  ra: "RequestAuthentication.security.istio.io", se: "ServiceEntry.networking.istio.io",
  we: "WorkloadEntry.networking.istio.io", vs: "VirtualService.networking.istio.io",
  dr: "DestinationRule.networking.istio.io", gw: "Gateway.networking.istio.io",
  gtw: "Gateway.gateway.networking.k8s.io", gateway: "Gateway.gateway.networking.k8s.io",
  gateways: "Gateway.gateway.networking.k8s.io",
};

const plural = (k: string) => /(s|x)$/.test(k) ? `${k}es` : /[^aeiou]y$/.test(k) ? `${k.slice(0, -1)}ies` : `${k}s`;

const BY_NAME: ReadonlyMap<string, KindInfo> = (() => {
  const m = new Map<string, KindInfo>();
  for (const [key, info] of Object.entries(KINDS)) {
    const lower = info.kind.toLowerCase();
    for (const name of [lower, plural(lower)]) {
      m.set(info.group ? `${name}.${info.group}` : name, info);
      if (!m.has(name) || info.enforced) m.set(name, info);
    }
    m.set(key.toLowerCase(), info);
  }
  for (const [short, key] of Object.entries(SHORT_NAMES)) m.set(short, KINDS[key]!);
  return m;
})();

/** The kind a command-line name stands for; throws a usage error listing what is known. */
export function resolveKind(name: string): KindInfo & { readonly qualified: string } {
  const info = BY_NAME.get(name.toLowerCase());
  if (!info) {
    const known = [...new Set(Object.values(KINDS).map((k) => k.kind.toLowerCase()))].sort().join(", ");
    throw new UsageError(`unknown kind "${name}": use one of ${known} (plural and short names such as po, svc, ap work too)`);
  }
  return { ...info, qualified: groupKind(info.group, info.kind) };
}

/** The group of an apiVersion, for matching objects to a resolved kind. */
export function apiGroup(apiVersion: string): string {
  return apiVersion.includes("/") ? apiVersion.split("/")[0]! : "";
}
