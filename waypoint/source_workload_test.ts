// Table tests for which workload a request's metrics name as its source.
import * as assert from "node:assert/strict";
import { test } from "bun:test";
import { spiffeId } from "../identity/mod.ts";
import { testWorkload } from "../testing/resources.ts";
import { WaypointState } from "./state.ts";
import { sourceWorkload } from "./source_workload.ts";

const sleep = testWorkload("sleep-7d9f", "demo", { addresses: ["10.0.0.1"], serviceAccount: "sleep", workloadName: "sleep", trustDomain: "cluster.local" });
const sleep2 = testWorkload("sleep-8a1b", "demo", { addresses: ["10.0.0.2"], serviceAccount: "sleep", workloadName: "sleep", trustDomain: "cluster.local" });
const other = testWorkload("curl-1", "demo", { addresses: ["10.0.0.3"], serviceAccount: "curl", workloadName: "curl", trustDomain: "cluster.local" });
const state = new WaypointState({ services: [], routes: [], workloads: [sleep, sleep2, other] });
const asSleep = spiffeId("cluster.local", "demo", "sleep");
const bag = (name: string, namespace = "demo") => ({ "k8s.namespace.name": namespace, "k8s.pod.name": name, "service.name": name });

const rows: { name: string; peer?: ReturnType<typeof spiffeId>; source: string; baggage?: Record<string, string>; want: string | undefined }[] = [
  { name: "the workload at the source address, with the tunnel's identity", source: "10.0.0.2:41000", want: "sleep-8a1b" },
  { name: "an IPv6-style bracketed source is unwrapped", source: "[10.0.0.1]:41000", want: "sleep-7d9f" },
  { name: "a source address of another identity's workload is not believed", source: "10.0.0.3:41000", want: undefined },
  { name: "…nor is its baggage", source: "10.0.0.3:41000", baggage: bag("curl"), want: undefined },
  { name: "a loopback source (SOCKS5 client): the baggage's workload name, with the tunnel's identity", source: "127.0.0.1:5000", baggage: bag("sleep"), want: "sleep-7d9f" },
  { name: "baggage naming another namespace than the identity's is ignored", source: "127.0.0.1:5000", baggage: bag("sleep", "prod"), want: undefined },
  { name: "no address match and no baggage: unknown", source: "127.0.0.1:5000", want: undefined },
  { name: "an identity no known workload has: unknown", peer: spiffeId("cluster.local", "demo", "ghost"), source: "10.0.0.1:1", baggage: bag("sleep"), want: undefined },
];

for (const row of rows) {
  test(`source workload: ${row.name}`, () => {
    assert.equal(sourceWorkload(state, row.peer ?? asSleep, row.source, row.baggage ?? {})?.name, row.want);
  });
}
