/**
 * The cross-object checks of `ambit analyze`, each a pure function over the
 * analyzed objects: what a schema cannot see because it needs the other objects,
 * or because it is valid Istio that ztunnel will not enforce.
 * @module
 */
import { describeObject, type KubeObject, USE_WAYPOINT_LABEL, USE_WAYPOINT_NAMESPACE_LABEL } from "../../config/objects.ts";
import type { SourcedObject } from "../documents.ts";
import { checkJwtKeys, checkL7Attachment } from "./l7_checks.ts";
import { type AnalysisMessage, message } from "./messages.ts";
import { checkMeshRoutes } from "./route_checks.ts";

/** What the checks assume about the mesh. */
export interface AnalysisOptions {
  /** Principals outside it are warned about; default `cluster.local`. */
  readonly trustDomain: string;
  /** Policies here select workloads in every namespace; default `istio-system`. */
  readonly rootNamespace: string;
}

type Fields = Record<string, any>;
type Check = (objects: readonly SourcedObject[], options: AnalysisOptions) => AnalysisMessage[];

const at = (s: SourcedObject, field: string) => ({ object: describeObject(s.object), file: s.file, field });
const spec = (o: KubeObject) => (o.spec ?? {}) as Fields;
const isKind = (o: KubeObject, kind: string, group: string) => o.kind === kind && (group ? o.apiVersion.startsWith(`${group}/`) : !o.apiVersion.includes("/"));
const labelText = (m: Record<string, string>) => Object.entries(m).map(([k, v]) => `${k}=${v}`).join(",");

/** Pods and WorkloadEntries: their namespace and labels. */
function workloadsOf(objects: readonly SourcedObject[]): { namespace: string; labels: Record<string, string> }[] {
  return objects.flatMap(({ object: o }) => {
    if (isKind(o, "Pod", "")) return [{ namespace: o.metadata.namespace!, labels: { ...o.metadata.labels } }];
    if (isKind(o, "WorkloadEntry", "networking.istio.io")) return [{ namespace: o.metadata.namespace!, labels: { ...o.metadata.labels, ...spec(o).labels } }];
    return [];
  });
}

const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** L7 fields of an AuthorizationPolicy enforced by ztunnel (no targetRefs): ztunnel cannot see them. */
export const checkL7Fields: Check = (objects) => {
  const L7_SOURCE = ["requestPrincipals", "notRequestPrincipals", "remoteIpBlocks", "notRemoteIpBlocks"];
  const L7_OPERATION = ["hosts", "notHosts", "methods", "notMethods", "paths", "notPaths"];
  const L4_KEYS = new Set(["source.ip", "source.namespace", "source.principal", "destination.ip", "destination.port"]);
  const out: AnalysisMessage[] = [];
  for (const s of objects) {
    const o = s.object;
    const p = spec(o);
    if (!isKind(o, "AuthorizationPolicy", "security.istio.io") || p.targetRef || p.targetRefs) continue;
    const effect = (p.action ?? "ALLOW") === "ALLOW"
      ? "ztunnel drops an ALLOW rule with L7 fields, so this rule allows nothing"
      : "ztunnel ignores L7 fields in a DENY rule, so this clause is enforced without them or never matches";
    const warn = (field: string, what: string) =>
      out.push(message("L7PolicyWithoutWaypoint", at(s, field), `${what} is an L7 field and this policy has no targetRefs: ${effect}. Deploy a waypoint and target it with targetRefs`));
    (p.rules ?? []).forEach((r: Fields, i: number) => {
      (r.from ?? []).forEach((f: Fields, j: number) => {
        for (const k of L7_SOURCE) if (f.source?.[k]?.length) warn(`spec.rules[${i}].from[${j}].source.${k}`, k);
      });
      (r.to ?? []).forEach((t: Fields, j: number) => {
        for (const k of L7_OPERATION) if (t.operation?.[k]?.length) warn(`spec.rules[${i}].to[${j}].operation.${k}`, k);
      });
      (r.when ?? []).forEach((w: Fields, j: number) => {
        if (!L4_KEYS.has(w.key)) warn(`spec.rules[${i}].when[${j}].key`, `"${w.key}"`);
      });
    });
  }
  return out;
};

/** Workload selectors (policies, ServiceEntry workloadSelector) that select no Pod or WorkloadEntry. */
export const checkSelectors: Check = (objects, options) => {
  const workloads = workloadsOf(objects);
  const out: AnalysisMessage[] = [];
  for (const s of objects) {
    const o = s.object;
    const p = spec(o);
    let selector: Record<string, string> | undefined;
    let field = "spec.selector.matchLabels";
    if (["AuthorizationPolicy", "PeerAuthentication", "RequestAuthentication"].some((k) => isKind(o, k, "security.istio.io"))) selector = p.selector?.matchLabels;
    else if (isKind(o, "ServiceEntry", "networking.istio.io")) [selector, field] = [p.workloadSelector?.labels, "spec.workloadSelector.labels"];
    if (!selector || Object.keys(selector).length === 0) continue;
    const anyNamespace = o.metadata.namespace === options.rootNamespace;
    const found = workloads.some((w) => (anyNamespace || w.namespace === o.metadata.namespace) && selects(selector!, w.labels));
    if (!found) {
      out.push(message("NoMatchingWorkloadsFound", at(s, field),
        `no Pod or WorkloadEntry${anyNamespace ? "" : ` in namespace ${o.metadata.namespace}`} has the labels ${labelText(selector)}`));
    }
  }
  return out;
};

/** Services whose selector picks no Pod or WorkloadEntry in their namespace: every connection to them fails. */
export const checkServiceEndpoints: Check = (objects) => {
  const workloads = workloadsOf(objects);
  const out: AnalysisMessage[] = [];
  for (const s of objects) {
    const o = s.object;
    if (!isKind(o, "Service", "") || spec(o).type === "ExternalName") continue;
    const selector = spec(o).selector as Record<string, string> | undefined;
    if (!selector || Object.keys(selector).length === 0) {
      out.push(message("ServiceWithoutEndpoints", at(s, "spec.selector"), "the Service has no selector, so it has no endpoints"));
    } else if (!workloads.some((w) => w.namespace === o.metadata.namespace && selects(selector, w.labels))) {
      out.push(message("ServiceWithoutEndpoints", at(s, "spec.selector"),
        `no Pod or WorkloadEntry in namespace ${o.metadata.namespace} has the labels ${labelText(selector)}: the Service has no endpoints`));
    }
  }
  return out;
};

/** `istio.io/use-waypoint` naming a waypoint Gateway that is not among the analyzed objects. */
export const checkWaypointReferences: Check = (objects) => {
  const gateways = new Set(objects.filter((s) => isKind(s.object, "Gateway", "gateway.networking.k8s.io"))
    .map((s) => `${s.object.metadata.namespace}/${s.object.metadata.name}`));
  const out: AnalysisMessage[] = [];
  for (const s of objects) {
    const labels = s.object.metadata.labels ?? {};
    const name = labels[USE_WAYPOINT_LABEL];
    if (!name || name === "none") continue;
    const namespace = labels[USE_WAYPOINT_NAMESPACE_LABEL] ?? (s.object.kind === "Namespace" ? s.object.metadata.name : s.object.metadata.namespace);
    if (!gateways.has(`${namespace}/${name}`)) {
      out.push(message("ReferencedResourceNotFound", at(s, `metadata.labels[${USE_WAYPOINT_LABEL}]`),
        `waypoint not found: no Gateway (gateway.networking.k8s.io) ${namespace}/${name}; traffic for this destination cannot reach a waypoint`));
    }
  }
  return out;
};

/** Principals (`<trust domain>/ns/<ns>/sa/<sa>`) in a trust domain other than the mesh's: they never match. */
export const checkTrustDomains: Check = (objects, options) => {
  const out: AnalysisMessage[] = [];
  const check = (s: SourcedObject, field: string, principal: unknown) => {
    if (typeof principal !== "string" || principal === "*" || principal.startsWith("*")) return;
    const domain = principal.split("/")[0]!;
    if (domain !== options.trustDomain) {
      out.push(message("ForeignTrustDomain", at(s, field),
        `"${principal}" is in trust domain "${domain}", not "${options.trustDomain}": no workload of this mesh has it (--trust-domain sets the mesh's)`));
    }
  };
  for (const s of objects) {
    if (!isKind(s.object, "AuthorizationPolicy", "security.istio.io")) continue;
    (spec(s.object).rules ?? []).forEach((r: Fields, i: number) => {
      (r.from ?? []).forEach((f: Fields, j: number) => {
        for (const k of ["principals", "notPrincipals"]) {
          (f.source?.[k] ?? []).forEach((v: unknown, n: number) => check(s, `spec.rules[${i}].from[${j}].source.${k}[${n}]`, v));
        }
      });
      (r.when ?? []).forEach((w: Fields, j: number) => {
        if (w.key !== "source.principal") return;
        for (const k of ["values", "notValues"]) (w[k] ?? []).forEach((v: unknown, n: number) => check(s, `spec.rules[${i}].when[${j}].${k}[${n}]`, v));
      });
    });
  }
  return out;
};

/** Every check, in the order their messages are printed. */
export const CHECKS: readonly Check[] = [checkL7Fields, checkL7Attachment, checkJwtKeys, checkSelectors, checkServiceEndpoints, checkWaypointReferences, checkTrustDomains, checkMeshRoutes];
