import * as assert from "node:assert/strict";
import { afterAll, test } from "../testing/harness.ts";
import { startWaypointMesh } from "../testing/waypoint_mesh.ts";
import { serviceRoutes } from "../testing/waypoint_routes.ts";

const mesh = await startWaypointMesh([
  { name: "echo", vip: "10.96.1.1", backends: ["echo-v1"] },
  { name: "split", vip: "10.96.1.2", backends: ["split-v1", "split-v2"] },
], (k) => [serviceRoutes(k.split!, [{ matches: [{ path: { type: "PathPrefix", value: "/v2" } }], backends: [k.split!] }])]);
afterAll(() => mesh.stop());

test("default route", async () => {
  const r = await mesh.request("echo", { path: "/hello" });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.echo?.backend, "echo-v1");
}, { timeout: 20_000 });

test("no match 404", async () => {
  const r = await mesh.request("split", { path: "/other" });
  assert.equal(r.status, 404, r.body);
}, { timeout: 20_000 });
