// The config the xDS benchmark applies: one enrolled namespace, a few service
// accounts and Services, and Pods spread over nodes `node-0`… with distinct 10.x
// pod IPs. Pods go in `kind: List` documents so the whole mesh is one multi-document
// YAML under the intake's 1,000-document limit.

export const NAMESPACE = "bench";
export const APPS = 10;

/** The node pod `i` runs on. */
export function podNode(i: number, nodes: number): string {
  return `node-${i % nodes}`;
}

/** The service account (and app) of pod `i`. */
export function podApp(i: number): string {
  return `app-${i % APPS}`;
}

/** The workload uid the controlplane gives pod `i` (default cluster id). */
export function podUid(i: number): string {
  return `Kubernetes//v1/Pod/${NAMESPACE}/pod-${i}`;
}

/** Pod `i` as a plain object; `version` is the label the benchmark's changes bump. */
export function pod(i: number, nodes: number, version = "v1"): object {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: `pod-${i}`, namespace: NAMESPACE, labels: { app: podApp(i), version } },
    spec: {
      nodeName: podNode(i, nodes),
      serviceAccountName: podApp(i),
      containers: [{ name: "app", image: "app", ports: [{ name: "http", containerPort: 8080 }] }],
    },
    status: { phase: "Running", podIP: `10.${Math.floor(i / 62500) % 256}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}` },
  };
}

/** The whole mesh as one multi-document YAML. */
export function meshYaml(pods: number, nodes: number): string {
  const docs: string[] = [
    `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${NAMESPACE}, labels: {istio.io/dataplane-mode: ambient}}`,
  ];
  for (let a = 0; a < APPS; a++) {
    docs.push(`apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app-${a}, namespace: ${NAMESPACE}}`);
    docs.push(
      `apiVersion: v1\nkind: Service\nmetadata: {name: app-${a}, namespace: ${NAMESPACE}}\n` +
        `spec: {selector: {app: app-${a}}, ports: [{name: http, port: 80, targetPort: http}]}`,
    );
  }
  for (let first = 0; first < pods; first += 100) {
    const items = [];
    for (let i = first; i < Math.min(pods, first + 100); i++) items.push(`- ${JSON.stringify(pod(i, nodes))}`);
    docs.push(`apiVersion: v1\nkind: List\nitems:\n${items.join("\n")}`);
  }
  return docs.join("\n---\n") + "\n";
}

/** One Pod document: pod `i` relabelled with `version`. */
export function podYaml(i: number, nodes: number, version: string): string {
  return JSON.stringify(pod(i, nodes, version)) + "\n";
}
