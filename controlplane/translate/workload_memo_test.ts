import { expect, test } from "bun:test";
import type { KubeObject } from "../../config/objects.ts";
import { AMBIENT, authorizationPolicy, namespace, OPTIONS, pod, service, waypoint, waypointPod } from "./_fixtures.ts";
import { WorkloadMemo } from "./workload_memo.ts";
import { translateWorkloads } from "./workloads.ts";

const base = (): KubeObject[] => [
  namespace("default", AMBIENT),
  service("web", { selector: { app: "web" }, labels: { "istio.io/use-waypoint": "wp" } }),
  waypoint("wp"), waypointPod("wp", "10.0.9.9"),
  pod("web-1", { labels: { app: "web" }, ip: "10.0.0.1" }), pod("web-2", { labels: { app: "web" }, ip: "10.0.0.2" }),
  pod("pending", { labels: { app: "web" }, ip: null }),
];

// Each change, applied to the objects of the first translation: with the memo the result must equal a
// translation from scratch; `reused` is how many Pods the memo kept.
const cases: [string, (objects: KubeObject[]) => KubeObject[], number][] = [
  ["nothing changed", (o) => o, 3],
  ["one Pod relabelled", (o) => o.map((x) => (x.metadata.name === "web-1" ? pod("web-1", { labels: { app: "web", version: "v2" }, ip: "10.0.0.1" }) : x)), 2],
  ["a Pod added", (o) => [...o, pod("web-3", { labels: { app: "web" }, ip: "10.0.0.3" })], 3],
  ["a Pod deleted", (o) => o.filter((x) => x.metadata.name !== "web-2"), 2],
  ["the pending Pod got its address", (o) => o.map((x) => (x.metadata.name === "pending" ? pod("pending", { labels: { app: "web" }, ip: "10.0.0.7" }) : x)), 2],
  ["the Service changed", (o) => o.map((x) => (x.kind === "Service" ? service("web", { selector: { app: "web" } }) : x)), 0],
  ["the waypoint's instance moved", (o) => o.map((x) => (x.metadata.name === "wp-abc" ? waypointPod("wp", "10.0.9.10") : x)), 0],
  ["a policy arrived", (o) => [...o, authorizationPolicy("deny", "default", { selector: { matchLabels: { app: "web" } }, action: "DENY", rules: [{}] })], 0],
  ["the namespace left the mesh", (o) => o.map((x) => (x.kind === "Namespace" ? namespace("default") : x)), 0],
];
for (const [name, change, reused] of cases) {
  test(`memoized translation equals a fresh one: ${name}`, () => {
    const memo = new WorkloadMemo();
    const first = base();
    translateWorkloads(first, { ...OPTIONS, workloadMemo: memo });
    const next = change(first);
    expect(translateWorkloads(next, { ...OPTIONS, workloadMemo: memo })).toEqual(translateWorkloads(next, OPTIONS));
    expect(memo.counts.reused).toBe(reused);
  });
}
