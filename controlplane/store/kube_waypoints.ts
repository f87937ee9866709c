/**
 * The Deployment and Service of each waypoint Gateway (class
 * `istio-waypoint`), made by the status-writing replica in Kubernetes mode, as
 * istiod's gateway deployment controller does: named after the Gateway,
 * labelled `gateway.networking.k8s.io/gateway-name`, owned by the Gateway (so
 * deleting it removes them). {@link waypointObjects} is the pure part and
 * matches containers/kubernetes/waypoint; {@link reconcileWaypoints} creates
 * what is missing. It never edits what exists (an operator may have tuned it).
 *
 * @example
 * ```ts
 * const [deployment, service] = waypointObjects(gateway, "localhost/ambit/waypoint:0.1.0");
 * ```
 * @module
 */
import type { KubeObject } from "../../config/objects.ts";
import type { KubeApiClient } from "./kube_status.ts";

const GATEWAY_LABEL = "gateway.networking.k8s.io/gateway-name";
/** Istio's class for waypoints (the translation reads the same name: controlplane/translate/_waypoints.ts). */
const WAYPOINT_GATEWAY_CLASS = "istio-waypoint";

/** The Deployment and Service a waypoint Gateway needs. */
export function waypointObjects(gateway: KubeObject, image: string): [KubeObject, KubeObject] {
  const name = gateway.metadata.name;
  const namespace = gateway.metadata.namespace ?? "default";
  const labels = { [GATEWAY_LABEL]: name, "istio.io/gateway-name": name, "app.kubernetes.io/part-of": "ambit" };
  const owner = gateway.metadata.uid
    ? { ownerReferences: [{ apiVersion: gateway.apiVersion, kind: "Gateway", name, uid: gateway.metadata.uid, controller: true }] }
    : {};
  const metadata = { name, namespace, labels, ...owner };
  const deployment: KubeObject = {
    apiVersion: "apps/v1", kind: "Deployment", metadata,
    spec: {
      replicas: 1,
      selector: { matchLabels: { [GATEWAY_LABEL]: name } },
      template: {
        metadata: { labels: { [GATEWAY_LABEL]: name, "istio.io/gateway-name": name, "istio.io/dataplane-mode": "ambient" } },
        spec: {
          securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
          containers: [{
            name: "waypoint", image, args: ["--log-format", "json"],
            env: [
              { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
              { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
              { name: "AMBIT_CONTROLPLANE", value: "https://ambit-controlplane.ambit-system.svc:15012" },
              { name: "GATEWAY_NAME", value: name },
            ],
            ports: [{ name: "mesh", containerPort: 15008 }, { name: "metrics", containerPort: 15020 }, { name: "readiness", containerPort: 15021 }],
            readinessProbe: { httpGet: { path: "/healthz/ready", port: 15021 }, periodSeconds: 2 },
            resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "1Gi" } },
            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
          }],
        },
      },
    },
  };
  const service: KubeObject = {
    apiVersion: "v1", kind: "Service", metadata,
    spec: { selector: { [GATEWAY_LABEL]: name }, ports: [{ name: "mesh", port: 15008, targetPort: "mesh", appProtocol: "all" }] },
  };
  return [deployment, service];
}

/** Creates the Deployment and Service of each waypoint Gateway that lacks them; returns how many it created. */
export async function reconcileWaypoints(client: KubeApiClient, gateways: readonly KubeObject[], image: string): Promise<number> {
  let created = 0;
  for (const gw of gateways) {
    if ((gw.spec as { gatewayClassName?: string } | undefined)?.gatewayClassName !== WAYPOINT_GATEWAY_CLASS) continue;
    const ns = gw.metadata.namespace ?? "default";
    const [deployment, service] = waypointObjects(gw, image);
    for (const [collection, object] of [[`/apis/apps/v1/namespaces/${ns}/deployments`, deployment], [`/api/v1/namespaces/${ns}/services`, service]] as const) {
      if ((await client.request("GET", `${collection}/${gw.metadata.name}`)).status !== 404) continue;
      if ((await client.request("POST", `${collection}?fieldManager=ambit-controlplane`, object)).status === 201) created++;
    }
  }
  return created;
}
