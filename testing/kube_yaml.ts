/**
 * Kubernetes YAML the end-to-end tests apply again and again: an ambient
 * namespace with service accounts, a running Pod, a Service over Pods.
 *
 * @example
 * ```ts
 * await cp.apply(ambientNamespaceYaml("demo", ["client", "echo"]) + podYaml({ name: "echo", node: "node-b", ip, serviceAccount: "echo" }));
 * ```
 * @module
 */

/** An ambient-enrolled Namespace and its ServiceAccounts, each document ending with `---`. */
export function ambientNamespaceYaml(namespace: string, serviceAccounts: readonly string[]): string {
  const docs = [
    `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${namespace}, labels: {istio.io/dataplane-mode: ambient}}`,
    ...serviceAccounts.map((sa) => `apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ${sa}, namespace: ${namespace}}`),
  ];
  return docs.map((d) => `${d}\n---\n`).join("");
}

/** A running Pod (labelled `app: <name>` unless `labels` says otherwise) with an `http` port 8080. */
export function podYaml(o: { name: string; namespace?: string; node: string; ip: string; serviceAccount: string; labels?: Record<string, string> }): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${o.name}, namespace: ${o.namespace ?? "demo"}, labels: ${JSON.stringify(o.labels ?? { app: o.name })}}
spec: {nodeName: ${o.node}, serviceAccountName: ${o.serviceAccount}, containers: [{name: c, image: i, ports: [{name: http, containerPort: 8080}]}]}
status: {phase: Running, podIP: ${o.ip}}
`;
}

/** A Service on port 80 to the `http` port of Pods labelled `app: <app>`. */
export function serviceYaml(o: { name: string; namespace?: string; app?: string; labels?: Record<string, string>; resourceVersion?: string }): string {
  const extra = [
    o.labels ? `labels: ${JSON.stringify(o.labels)}` : "",
    o.resourceVersion ? `resourceVersion: "${o.resourceVersion}"` : "",
  ].filter(Boolean).map((s) => `, ${s}`).join("");
  return `apiVersion: v1
kind: Service
metadata: {name: ${o.name}, namespace: ${o.namespace ?? "demo"}${extra}}
spec: {selector: {app: ${o.app ?? o.name}}, ports: [{name: http, port: 80, targetPort: http}]}
`;
}

/**
 * A waypoint Gateway and the WorkloadEntry of its one instance (`<name>-1` at `address`,
 * on `node`, with the Gateway's own service account), each document ending with `---`.
 */
export function waypointYaml(o: { name: string; namespace?: string; address: string; node: string }): string {
  const ns = o.namespace ?? "demo";
  return `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ${o.name}, namespace: ${ns}}
spec: {gatewayClassName: istio-waypoint, listeners: [{name: mesh, port: 15008, protocol: HBONE}]}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: ${o.name}-1, namespace: ${ns}, labels: {gateway.networking.k8s.io/gateway-name: ${o.name}, ambit.dev/node: ${o.node}}}
spec: {address: ${o.address}, serviceAccount: ${o.name}}
---
`;
}
