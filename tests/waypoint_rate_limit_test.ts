// Local rate limits end to end: Envoy Gateway BackendTrafficPolicy YAML,
// translated by the controlplane, enforced by a real waypoint (local file)
// under real concurrent load through HBONE.
import * as assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../config/objects.ts";
import { findKind } from "../config/kinds/mod.ts";
import { translateL7Policies } from "../controlplane/translate/l7_policy.ts";
import { afterAll, test } from "../testing/harness.ts";
import { startWaypointMesh } from "../testing/waypoint_mesh.ts";

const policy = (name: string, service: string, rules: string) => `
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: { name: ${name}, namespace: default }
spec:
  targetRefs: [{ group: "", kind: Service, name: ${service} }]
  rateLimit:
    type: Local
    local:
      rules: ${rules}
---`;
const YAML = policy("steady", "steady", `[{ limit: { requests: 20, unit: Second } }]`) +
  policy("per-user", "per-user", `[{ clientSelectors: [{ headers: [{ name: x-user-id, type: Distinct }] }], limit: { requests: 3, unit: Minute } }]`) +
  policy("per-caller", "per-caller", `[{ clientSelectors: [{ sourceIdentity: { type: Distinct } }], limit: { requests: 2, unit: Hour } }]`);
const objects = parseAllDocuments(YAML).map((d) => d.toJS() as KubeObject).filter(Boolean);
for (const o of objects) assert.ok(findKind(o.apiVersion, o.kind)!.schema.safeParse(o).success, `${o.metadata.name} validates`);
const { policies } = translateL7Policies(objects, { serviceKey: (ns, n) => `${ns}/${n}.${ns}.svc.cluster.local`, gatewayServices: () => [] });

const mesh = await startWaypointMesh([
  { name: "steady", vip: "10.96.9.1", backends: ["steady-v1"] },
  { name: "per-user", vip: "10.96.9.2", backends: ["per-user-v1"] },
  { name: "per-caller", vip: "10.96.9.3", backends: ["per-caller-v1"] },
], () => [], { extra: () => ({ l7Policies: policies }) });
afterAll(() => mesh.stop());

test("20 requests per second hold within 10% under 8-way concurrent load for 4 s", async () => {
  let allowed = 0;
  let limited = 0;
  let first = Infinity;
  let last = 0;
  const until = performance.now() + 4000;
  const worker = async () => {
    while (performance.now() < until) {
      const sent = performance.now();
      const r = await mesh.request("steady", { keepAlive: true });
      // When the waypoint saw it: between sending and the answer (jitter on a busy machine cancels out).
      const seen = (sent + performance.now()) / 2;
      if (r.status === 200) {
        allowed++;
        first = Math.min(first, seen);
        last = Math.max(last, seen);
      } else {
        assert.equal(r.status, 429, r.body);
        assert.equal(r.body.trim(), "local_rate_limited");
        limited++;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  // A full bucket (20) at the first request, then 20 per second until the last one allowed.
  const expected = 20 + 20 * ((last - first) / 1000);
  assert.ok(limited > allowed, `the load exceeded the limit (allowed ${allowed}, limited ${limited})`);
  assert.ok(Math.abs(allowed - expected) <= expected * 0.1, `allowed ${allowed}, expected ${expected.toFixed(1)} ± 10%`);
  const metrics = await mesh.waypoint.metrics();
  const counted = Number(/ambit_waypoint_rate_limited_total\{[^}]*policy="default\/steady"[^}]*\} (\d+)/.exec(metrics)?.[1]);
  assert.equal(counted, limited, "every 429 is counted");
}, { timeout: 30_000 });

test("per distinct header: each user has a bucket; 429 carries the x-ratelimit-* headers", async () => {
  const as = (user: string) => mesh.request("per-user", { headers: { "x-user-id": user } });
  const alice = [await as("alice"), await as("alice"), await as("alice"), await as("alice")];
  assert.deepEqual(alice.map((r) => r.status), [200, 200, 200, 429]);
  assert.equal(alice[0]!.headers["x-ratelimit-limit"], "3, 3;w=60");
  assert.equal(alice[0]!.headers["x-ratelimit-remaining"], "2");
  assert.equal(alice[3]!.headers["x-ratelimit-remaining"], "0");
  assert.ok(Number(alice[3]!.headers["x-ratelimit-reset"]) >= 1);
  assert.equal((await as("bob")).status, 200, "another user is not limited by alice's bucket");
  assert.equal((await mesh.request("per-user")).status, 200, "a request without the header is not counted by this rule");
}, { timeout: 30_000 });

test("per source identity", async () => {
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await mesh.request("per-caller")).status);
  assert.deepEqual(statuses, [200, 200, 429]);
}, { timeout: 30_000 });
