// The objects `ambit waypoint generate|apply` writes, as istioctl writes them:
// a Gateway of class istio-waypoint with one HBONE listener, labelled with the
// traffic it takes; and, with --enroll-namespace, the namespace labelled to use it.
import type { KubeObject } from "../../config/objects.ts";
import { USE_WAYPOINT_LABEL, WAYPOINT_FOR_LABEL } from "../../config/objects.ts";

/** istioctl's default waypoint name. */
export const DEFAULT_WAYPOINT_NAME = "waypoint";
export const WAYPOINT_FOR_VALUES = ["service", "workload", "all", "none"] as const;

/** The waypoint Gateway `<namespace>/<name>` for `trafficFor` traffic. */
export function waypointGateway(namespace: string, name: string, trafficFor: string): KubeObject {
  return {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "Gateway",
    metadata: { name, namespace, labels: { [WAYPOINT_FOR_LABEL]: trafficFor } },
    spec: { gatewayClassName: "istio-waypoint", listeners: [{ name: "mesh", port: 15008, protocol: "HBONE" }] },
  };
}

/** The namespace with `istio.io/use-waypoint: <name>` added to what it already has (or a new one). */
export function enrolledNamespace(existing: KubeObject | undefined, namespace: string, name: string): KubeObject {
  const base: KubeObject = existing ?? { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } };
  return {
    apiVersion: base.apiVersion,
    kind: base.kind,
    metadata: { name: namespace, labels: { ...(base.metadata.labels ?? {}), [USE_WAYPOINT_LABEL]: name }, ...(base.metadata.annotations ? { annotations: base.metadata.annotations } : {}) },
  };
}
