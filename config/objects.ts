/**
 * Kubernetes-shaped objects as Ambit stores them: apiVersion, kind, metadata,
 * spec and status, exactly as users write them for Istio, Gateway API and
 * Kubernetes. The kinds' schemas live in config/kinds/.
 *
 * @module
 */

/** Kubernetes object metadata (the subset Ambit reads and writes). */
export interface ObjectMeta {
  readonly name: string;
  /** Absent for cluster-scoped kinds (Namespace). */
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Set by the store: changes on every write of the object. */
  readonly resourceVersion?: string;
  /** Set by the store: changes when the spec changes. */
  readonly generation?: number;
  readonly uid?: string;
  readonly creationTimestamp?: string;
}

/** A status condition, as Istio and Gateway API write them. */
export interface Condition {
  readonly type: string;
  readonly status: "True" | "False" | "Unknown";
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration?: number;
  readonly lastTransitionTime?: string;
}

/** Any stored object. `spec` and `status` are kind-specific and validated by the kind's schema. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta;
  readonly spec?: unknown;
  /** Pods carry podIP here; Istio and Gateway API kinds carry conditions. */
  readonly status?: unknown;
}

/** `Kind namespace/name` (or `Kind name` for cluster-scoped kinds): how errors and logs name an object. */
export function describeObject(o: { kind: string; metadata: { name?: string; namespace?: string } }): string {
  const name = o.metadata?.name ?? "?";
  return o.metadata?.namespace ? `${o.kind} ${o.metadata.namespace}/${name}` : `${o.kind} ${name}`;
}

/**
 * The store key of an object: `Kind.group/namespace/name` (namespace empty for
 * cluster-scoped kinds). The group keeps Istio's Gateway and the Gateway API's
 * Gateway apart.
 */
export function objectKey(o: { apiVersion?: string; kind: string; metadata: { name: string; namespace?: string } }): string {
  const group = o.apiVersion?.includes("/") ? o.apiVersion.split("/")[0] : "";
  return `${o.kind}${group ? "." + group : ""}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
}

/** Label `istio.io/dataplane-mode=ambient` on a namespace or workload enrolls it. */
export const DATAPLANE_MODE_LABEL = "istio.io/dataplane-mode";
/** The node a WorkloadEntry (a VM or edge host) runs on: Ambit's own label, documented in docs/controlplane.md. */
export const NODE_LABEL = "ambit.dev/node";
export const USE_WAYPOINT_LABEL = "istio.io/use-waypoint";
export const USE_WAYPOINT_NAMESPACE_LABEL = "istio.io/use-waypoint-namespace";
export const WAYPOINT_FOR_LABEL = "istio.io/waypoint-for";
/** A second waypoint for a Service or namespace, taking a share of new connections (istio/istio#60805). */
export const USE_WAYPOINT_CANARY_LABEL = "istio.io/use-waypoint-canary";
export const USE_WAYPOINT_CANARY_NAMESPACE_LABEL = "istio.io/use-waypoint-canary-namespace";
/** Percent (0–100) of new connections the canary waypoint takes; on the object carrying the canary label. */
export const USE_WAYPOINT_CANARY_WEIGHT_ANNOTATION = "istio.io/use-waypoint-canary-weight";
export const DRY_RUN_ANNOTATION = "istio.io/dry-run";
