// Weights changed live under continuous load (the acceptance case): a
// 90/10 HTTPRoute becomes 50/50 with the file rewritten, and no request fails.
// Real processes: waypoint from a local file, ztunnel, echo backends.
import * as assert from "node:assert/strict";
import { afterAll, test } from "../testing/harness.ts";
import { startWaypointMesh } from "../testing/waypoint_mesh.ts";
import { serviceRoutes } from "../testing/waypoint_routes.ts";

const routes = (k: Record<string, string>, v1: number, v2: number) => [
  serviceRoutes(k.split!, [{ backends: [{ service: k["split-v1"]!, weight: v1 }, { service: k["split-v2"]!, weight: v2 }] }]),
];
const mesh = await startWaypointMesh([
  { name: "split", vip: "10.96.6.1", backends: ["split-v1", "split-v2"] },
  { name: "split-v1", vip: "10.96.6.11", backends: ["split-v1"] },
  { name: "split-v2", vip: "10.96.6.12", backends: ["split-v2"] },
], (k) => routes(k, 90, 10));
afterAll(() => mesh.stop());

test("MeshHTTPRouteWeight, live: 90/10 → 50/50 under load, in effect within 1 s, no failed request", async () => {
  const seen: { at: number; backend: string }[] = [];
  const reasons: string[] = [];
  let stop = false;
  const worker = async () => {
    while (!stop) {
      try {
        const r = await mesh.request("split", { keepAlive: true });
        if (r.status === 200) seen.push({ at: Date.now(), backend: r.echo!.backend });
        else reasons.push(`${r.status} ${r.body.slice(0, 60)}`);
      } catch (e) {
        reasons.push((e as Error).message);
      }
    }
  };
  const workers = [worker(), worker()];
  await new Promise((r) => setTimeout(r, 500));
  mesh.writeRoutes(routes(mesh.keys, 50, 50));
  const switchedAt = Date.now();
  await new Promise((r) => setTimeout(r, 3000));
  stop = true;
  await Promise.all(workers);
  assert.deepEqual(reasons, [], "failed requests during the change");
  const after = seen.filter((s) => s.at > switchedAt + 1000);
  const v2 = after.filter((s) => s.backend === "split-v2").length;
  assert.ok(after.length >= 50, `only ${after.length} requests after the change settled`);
  assert.ok(v2 / after.length > 0.35 && v2 / after.length < 0.65, `split-v2 share ${(v2 / after.length).toFixed(2)} of ${after.length}`);
}, { timeout: 30_000 });
