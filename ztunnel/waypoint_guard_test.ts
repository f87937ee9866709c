// Table tests for the destination's waypoint check: who may connect to a workload behind a waypoint.
import { expect, test } from "bun:test";
import { spiffeId } from "../identity/mod.ts";
import type { GatewayAddress, Service, Workload } from "../xds/resources.ts";
import { testService, testWorkload } from "../testing/resources.ts";
import { ProxyState } from "./state.ts";
import { checkWaypointPeer, forwardedSource } from "./waypoint_guard.ts";

const gw = (address: string, identity?: string): GatewayAddress => ({
  destination: { kind: "address", address: { network: "", address } }, hboneMtlsPort: 15008, ...(identity ? { identity } : {}),
});
const wp = spiffeId("cluster.local", "demo", "wp");
const canary = spiffeId("cluster.local", "demo", "wp2");
const sleep = spiffeId("cluster.local", "demo", "sleep");

const svc = (name: string, over: Partial<Service> = {}) => testService(name, "demo", { vips: [{ network: "", address: `10.96.0.${name.length}` }], ...over });
const hello = svc("hello", { waypoint: gw("10.0.9.1", "spiffe://cluster.local/ns/demo/sa/wp") });
const split = svc("split", { waypoint: gw("10.0.9.1", "spiffe://cluster.local/ns/demo/sa/wp"), waypointCanary: { waypoint: gw("10.0.9.2", "spiffe://cluster.local/ns/demo/sa/wp2"), weight: 10 } });
const plain = svc("plain");
const legacy = svc("legacy", { waypoint: gw("10.0.9.3") }); // no identity sent: the instance's identity counts
const backs = (...s: Service[]) => Object.fromEntries(s.map((x) => [`${x.namespace}/${x.hostname}`, { 80: 8080 }]));
const w = (name: string, over: Partial<Workload>) => testWorkload(name, "demo", { addresses: [`10.0.1.${name.length}`], ...over });
const instance = testWorkload("wp-legacy", "demo", { serviceAccount: "wp-legacy", addresses: ["10.0.9.3"], nativeTunnel: true });

const workloads = {
  behindService: w("a", { services: backs(hello) }),
  behindOwn: w("bb", { waypoint: gw("10.0.9.1", "spiffe://cluster.local/ns/demo/sa/wp") }),
  noWaypoint: w("ccc", { services: backs(plain) }),
  canaried: w("dddd", { services: backs(split) }),
  mixed: w("eeeee", { services: backs(plain, hello) }),
  legacy: w("ffffff", { services: backs(legacy) }),
};
const state = new ProxyState({ workloads: [...Object.values(workloads), instance], services: [hello, split, plain, legacy], policies: [] }, "cluster.local");

const rows: { name: string; workload: Workload; peer?: ReturnType<typeof spiffeId>; allowed: boolean; fromWaypoint?: boolean }[] = [
  { name: "no waypoint: anyone, forwarded not trusted", workload: workloads.noWaypoint, peer: sleep, allowed: true, fromWaypoint: false },
  { name: "behind its Service's waypoint: the waypoint may", workload: workloads.behindService, peer: wp, allowed: true, fromWaypoint: true },
  { name: "behind its Service's waypoint: a client skipping it may not", workload: workloads.behindService, peer: sleep, allowed: false },
  { name: "behind its Service's waypoint: plaintext may not", workload: workloads.behindService, allowed: false },
  { name: "its own (workload) waypoint: the waypoint may, others not", workload: workloads.behindOwn, peer: wp, allowed: true, fromWaypoint: true },
  { name: "its own (workload) waypoint: a client may not", workload: workloads.behindOwn, peer: sleep, allowed: false },
  { name: "primary and canary waypoints: the canary may", workload: workloads.canaried, peer: canary, allowed: true, fromWaypoint: true },
  { name: "primary and canary waypoints: the primary may", workload: workloads.canaried, peer: wp, allowed: true, fromWaypoint: true },
  { name: "a canary waypoint does not open a Service it does not serve", workload: workloads.behindService, peer: canary, allowed: false },
  { name: "backing a waypointed and a plain Service: reachable through the plain one, so not guarded", workload: workloads.mixed, peer: sleep, allowed: true, fromWaypoint: false },
  { name: "backing a waypointed and a plain Service: the waypoint's forwarded source still counts", workload: workloads.mixed, peer: wp, allowed: true, fromWaypoint: true },
  { name: "no identity in the address: the waypoint instance's identity", workload: workloads.legacy, peer: spiffeId("cluster.local", "demo", "wp-legacy"), allowed: true, fromWaypoint: true },
  { name: "no identity in the address: a look-alike name in another namespace may not", workload: workloads.legacy, peer: spiffeId("cluster.local", "other", "wp-legacy"), allowed: false },
];

for (const row of rows) {
  test(`waypoint guard: ${row.name}`, () => {
    const got = checkWaypointPeer(state, row.workload, row.peer);
    expect(got.allowed).toBe(row.allowed);
    if (got.allowed) expect(got.fromWaypoint).toBe(row.fromWaypoint!);
    else expect(got.message).toContain("is behind a waypoint");
  });
}

test("forwarded: the original source address, or nothing for a value that is not one", () => {
  expect(["10.0.0.1:41234", "[fd00::1]:41234", "10.0.0.1", "evil.example:80", "_hidden", ""].map(forwardedSource)).toEqual(["10.0.0.1", "fd00::1", "10.0.0.1", undefined, undefined, undefined]);
});
