/**
 * `ambit analyze` checks for the waypoint's L7 policies: a RequestAuthentication,
 * AuthorizationPolicy or BackendTrafficPolicy attached by targetRefs needs a
 * waypoint in the path of what it targets, or nothing enforces it; a
 * RequestAuthentication attached by selector has no waypoint at all (ztunnel
 * does not read JWTs); and a JWT rule needs keys it can get.
 * @module
 */
import { describeObject, type KubeObject, USE_WAYPOINT_LABEL, USE_WAYPOINT_NAMESPACE_LABEL } from "../../config/objects.ts";
import { jwtRuleKeyProblem } from "../../config/jwt_keys.ts";
import type { SourcedObject } from "../documents.ts";
import type { AnalysisOptions } from "./checks.ts";
import { type AnalysisMessage, message } from "./messages.ts";

type Fields = Record<string, any>;
const at = (s: SourcedObject, field: string) => ({ object: describeObject(s.object), file: s.file, field });
const spec = (o: KubeObject) => (o.spec ?? {}) as Fields;
const isKind = (o: KubeObject, kind: string, group: string) => o.kind === kind && (group ? o.apiVersion.startsWith(`${group}/`) : !o.apiVersion.includes("/"));
const L7_KINDS: readonly [string, string][] = [["AuthorizationPolicy", "security.istio.io"], ["RequestAuthentication", "security.istio.io"], ["BackendTrafficPolicy", "gateway.envoyproxy.io"]];

/** The waypoint ("namespace/name") a Service uses: its own label, else its namespace's; undefined for none. */
function waypointOf(service: KubeObject, namespaces: ReadonlyMap<string, KubeObject>): string | undefined {
  const own = service.metadata.labels ?? {};
  const ns = namespaces.get(service.metadata.namespace ?? "")?.metadata.labels ?? {};
  const labels = own[USE_WAYPOINT_LABEL] ? own : ns;
  const name = labels[USE_WAYPOINT_LABEL];
  if (!name || name === "none") return undefined;
  return `${labels[USE_WAYPOINT_NAMESPACE_LABEL] ?? service.metadata.namespace}/${name}`;
}

/** targetRefs that no waypoint in the analyzed set enforces. */
export const checkL7Attachment = (objects: readonly SourcedObject[]): AnalysisMessage[] => {
  const find = (kind: string, group: string) => new Map(objects.filter((s) => isKind(s.object, kind, group)).map((s) => [`${s.object.metadata.namespace ?? ""}/${s.object.metadata.name}`, s.object]));
  const services = find("Service", "");
  const gateways = find("Gateway", "gateway.networking.k8s.io");
  const namespaces = new Map(objects.filter((s) => isKind(s.object, "Namespace", "")).map((s) => [s.object.metadata.name, s.object]));
  const out: AnalysisMessage[] = [];
  for (const s of objects) {
    const o = s.object;
    if (!L7_KINDS.some(([k, g]) => isKind(o, k, g))) continue;
    const p = spec(o);
    const refs: Fields[] = p.targetRefs ?? (p.targetRef ? [p.targetRef] : []);
    if (refs.length === 0) {
      if (o.kind === "RequestAuthentication") {
        out.push(message("L7PolicyWithoutWaypoint", at(s, p.selector ? "spec.selector" : "spec"),
          "a RequestAuthentication without targetRefs is for sidecars: ztunnel does not read JWTs, so in ambient nothing enforces it. Target the Service (or its waypoint Gateway) with targetRefs"));
      }
      continue;
    }
    const field = p.targetRefs ? "spec.targetRefs" : "spec.targetRef";
    refs.forEach((ref, i) => {
      const where = p.targetRefs ? `${field}[${i}]` : field;
      const key = `${ref.namespace ?? o.metadata.namespace}/${ref.name}`;
      if (ref.kind === "Service") {
        const svc = services.get(key);
        if (!svc) return void out.push(message("ReferencedResourceNotFound", at(s, where), `Service ${key} not found: this policy applies to nothing`));
        const wp = waypointOf(svc, namespaces);
        if (!wp) {
          out.push(message("L7PolicyWithoutWaypoint", at(s, where),
            `Service ${key} has no waypoint (no ${USE_WAYPOINT_LABEL} label on it or its namespace): nothing enforces this policy, and its traffic is not checked`));
        } else if (!gateways.has(wp)) {
          out.push(message("L7PolicyWithoutWaypoint", at(s, where), `Service ${key} uses waypoint ${wp}, which is not among the analyzed objects: nothing enforces this policy`));
        }
      } else if (ref.kind === "Gateway") {
        const gw = gateways.get(key);
        if (!gw) out.push(message("ReferencedResourceNotFound", at(s, where), `Gateway ${key} not found: this policy applies to nothing`));
        else if (spec(gw).gatewayClassName !== "istio-waypoint") out.push(message("L7PolicyWithoutWaypoint", at(s, where), `Gateway ${key} is not a waypoint (gatewayClassName ${spec(gw).gatewayClassName}): Ambit enforces L7 policy only at waypoints`));
      }
    });
  }
  return out;
};

/** JWT rules whose keys cannot be had: no jwks, no jwksUri, and an issuer that is not a URL to discover them from. */
export const checkJwtKeys = (objects: readonly SourcedObject[], _options?: AnalysisOptions): AnalysisMessage[] => {
  const out: AnalysisMessage[] = [];
  for (const s of objects) {
    if (!isKind(s.object, "RequestAuthentication", "security.istio.io")) continue;
    (spec(s.object).jwtRules ?? []).forEach((r: Fields, i: number) => {
      const problem = jwtRuleKeyProblem(r);
      if (problem) out.push(message("JwtIssuerWithoutKeys", at(s, `spec.jwtRules[${i}]${typeof r.jwks === "string" ? ".jwks" : ""}`), problem));
    });
  }
  return out;
};
