// The waypoint in controlplane mode: its certificate from POST /ca/v1/certificates
// naming its Gateway, its state over delta xDS (Workload, Service, ServiceRoutes),
// and route changes pushed live. The controlplane is a stand-in serving the agreed
// contract (testing/fake_waypoint_controlplane.ts says why); everything else is real.
import * as assert from "node:assert/strict";
import { afterAll, test } from "../testing/harness.ts";
import { startWaypointMesh } from "../testing/waypoint_mesh.ts";
import { serviceRoutes } from "../testing/waypoint_routes.ts";

const mesh = await startWaypointMesh([
  { name: "echo", vip: "10.96.5.1", backends: ["echo-v1", "echo-v2"] },
  { name: "echo-v2", vip: "10.96.5.2", backends: ["echo-v2"] },
], (k) => [serviceRoutes(k.echo!, [{ matches: [{ path: { type: "PathPrefix", value: "/" } }], backends: [k["echo-v2"]!] }])], { xds: true });
afterAll(() => mesh.stop());

test("xDS mode: the waypoint identifies as role=waypoint, gets its own SVID, and routes what it is sent", async () => {
  const cp = mesh.controlplane!;
  const node = cp.nodes.find((n) => n.metadata?.role === "waypoint");
  assert.deepEqual(node?.metadata, { role: "waypoint", waypoint: "default/waypoint", metricsPort: "15020" });
  assert.deepEqual(cp.certificateRequests, [{ waypoint: "default/waypoint", identity: "spiffe://cluster.local/ns/default/sa/waypoint", status: 200 }]);
  const r = await mesh.request("echo", { path: "/x" });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.echo?.backend, "echo-v2");
  const dump = await (await mesh.waypoint.admin("/config_dump")).json() as { config: { kind: string }; routes: unknown[] };
  assert.equal(dump.config.kind, "xds");
  assert.equal(dump.routes.length, 1);
}, { timeout: 20_000 });

test("xDS mode: a pushed route change applies without a restart", async () => {
  mesh.writeRoutes([serviceRoutes(mesh.keys.echo!, [{ matches: [{ path: { type: "Exact", value: "/only" } }], backends: [mesh.keys["echo-v2"]!] }])]);
  const deadline = Date.now() + 5000;
  let status = 0;
  while (Date.now() < deadline && (status = (await mesh.request("echo", { path: "/x" })).status) !== 404) await new Promise((r) => setTimeout(r, 20));
  assert.equal(status, 404);
  assert.equal((await mesh.request("echo", { path: "/only" })).echo?.backend, "echo-v2");
  // Every type ACKed, none NACKed.
  const types = mesh.controlplane!.status().flatMap((s) => s.types);
  assert.ok(types.length >= 3 && types.every((t) => !t.lastNack), JSON.stringify(types));
}, { timeout: 20_000 });
