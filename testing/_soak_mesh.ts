// The soak's mesh as YAML: pods with loopback podIPs, services, and the policy it toggles.

/** The namespace the soak's workloads live in. */
export const NS = "soak";

export type Addresses = Record<"long" | "short" | "churn" | "bulk" | "api", string>;

export const pod = (name: string, node: string, podIP: string, labels: string, port?: number) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${NS}, labels: ${labels}}
spec: {nodeName: ${node}, serviceAccountName: ${name}, containers: [{name: c, image: c${port ? `, ports: [{name: p, containerPort: ${port}}]` : ""}}]}
status: {phase: Running, podIP: ${podIP}}
`;

/** The api pod, relabelled by each config change. */
export const apiPodYaml = (ip: Addresses, version: number) => pod("api", "node-b", ip.api, `{app: api, version: v${version}}`, 8080);

/** Three client workloads on node-a, the bulk echo and the api server on node-b, a Service for each server. */
export function meshYaml(ip: Addresses, version: number): string {
  return [
    `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${NS}, labels: {istio.io/dataplane-mode: ambient}}\n`,
    ...["long", "short", "churn", "bulk", "api"].map((sa) => `apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ${sa}, namespace: ${NS}}\n`),
    pod("long", "node-a", ip.long, "{app: long}"),
    pod("short", "node-a", ip.short, "{app: short}"),
    pod("churn", "node-a", ip.churn, "{app: churn}"),
    pod("bulk", "node-b", ip.bulk, "{app: bulk}", 9000),
    apiPodYaml(ip, version),
    `apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: ${NS}}\nspec: {selector: {app: api}, ports: [{name: http, port: 80, targetPort: 8080}]}\n`,
    `apiVersion: v1\nkind: Service\nmetadata: {name: bulk, namespace: ${NS}}\nspec: {selector: {app: bulk}, ports: [{name: tcp, port: 9000, targetPort: 9000}]}\n`,
  ].join("---\n");
}

/** Added and removed by the config changes; selects the api pod but nothing uses it. */
export const EXTRA_SERVICE_YAML = `apiVersion: v1\nkind: Service\nmetadata: {name: extra, namespace: ${NS}}\nspec: {selector: {app: api}, ports: [{name: http, port: 81, targetPort: 8080}]}\n`;

/** Toggled by the policy changes: denies an identity the load never uses, and allows the namespace the load comes from. */
export const POLICY_YAML = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: soak-deny-intruder, namespace: ${NS}}
spec:
  action: DENY
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/${NS}/sa/intruder"]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: soak-allow-namespace, namespace: ${NS}}
spec:
  action: ALLOW
  rules:
  - from:
    - source:
        namespaces: ["${NS}"]
`;
