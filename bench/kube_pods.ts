// Kubernetes mode at scale: what one Pod change costs the controlplane with
// 10,000 Pods, against the same change with 1,000 (the reference, same run).
// Each change re-translates the whole store today (docs/kubernetes.md), so
// the ratio shows how that cost grows; the xDS push that follows carries only
// the changed Workload either way. In-process, no sockets: DataPlane.update is
// exactly what the controlplane runs per change. Indicative on a shared machine.
//   bun bench/kube_pods.ts
import { DataPlane } from "../controlplane/dataplane.ts";
import type { KubeObject } from "../config/objects.ts";
import { APPS, NAMESPACE, pod } from "./_xds_mesh.ts";

const NODES = 100;

function mesh(pods: number): KubeObject[] {
  const objects: KubeObject[] = [{ apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE, labels: { "istio.io/dataplane-mode": "ambient" } } }];
  for (let a = 0; a < APPS; a++) {
    objects.push({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: `app-${a}`, namespace: NAMESPACE } });
    objects.push({ apiVersion: "v1", kind: "Service", metadata: { name: `app-${a}`, namespace: NAMESPACE }, spec: { selector: { app: `app-${a}` }, ports: [{ name: "http", port: 80, targetPort: "http" }] } });
  }
  for (let i = 0; i < pods; i++) objects.push(pod(i, NODES) as KubeObject);
  return objects;
}

/** Median milliseconds of re-translating after one Pod's label changes. */
function perChange(pods: number, rounds = 15): number {
  const objects = mesh(pods);
  const dataplane = new DataPlane({ trustDomain: "cluster.local", clusterDomain: "cluster.local", clusterId: "Kubernetes", rootNamespace: "istio-system", vipRange: "240.240.0.0/16", trustBundle: () => [] });
  dataplane.update(objects);
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const i = (r * 7919) % pods;
    objects[objects.length - pods + i] = pod(i, NODES, `v${r + 2}`) as KubeObject;
    const started = performance.now();
    dataplane.update(objects);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

export function bench(): string {
  const reference = perChange(1_000);
  const big = perChange(10_000);
  return [
    "## Kubernetes mode: one Pod change at 10,000 Pods",
    "",
    "| measure | value | reference (same run) | ratio |",
    "|---|---|---|---|",
    `| re-translation after one Pod change, 10,000 Pods, median | ${big.toFixed(1)} ms | 1,000 Pods ${reference.toFixed(1)} ms | ${(big / reference).toFixed(1)}× |`,
    "",
    "Whole-store re-translation per change: linear in Pods. Bursts are coalesced (one translation runs at a time,",
    "the next covers every change that arrived meanwhile), and only changed resources are pushed.",
    "",
  ].join("\n");
}

if (import.meta.main) console.log(bench());
