import { expect, test } from "bun:test";
import { spiffeId } from "../identity/mod.ts";
import type { DataPlaneSnapshot } from "../xds/resources.ts";
import { testWorkload } from "../testing/resources.ts";
import { checkNodeMayHoldIdentity } from "./workload_authorization.ts";

const w = (name: string, sa: string, node: string) => testWorkload(name, "default", { serviceAccount: sa, node, addresses: ["10.0.0.1"] });
const snapshot: DataPlaneSnapshot = { workloads: [w("a", "sleep", "node-a"), w("b", "echo", "node-b")], services: [], policies: [] };

const rows: [string, string, string, string | undefined][] = [
  ["own workload", "node-a", "sleep", undefined],
  ["other node's workload", "node-a", "echo", "no workload with identity spiffe://cluster.local/ns/default/sa/echo on node node-a"],
  ["nobody's", "node-b", "ghost", "no workload with identity spiffe://cluster.local/ns/default/sa/ghost on node node-b"],
];
for (const [name, node, sa, want] of rows) {
  test(name, () => expect(checkNodeMayHoldIdentity(snapshot, node, spiffeId("cluster.local", "default", sa))).toBe(want));
}

test("another trust domain is not the same identity", () => {
  expect(checkNodeMayHoldIdentity(snapshot, "node-a", spiffeId("other.td", "default", "sleep"))).toContain("no workload");
});
