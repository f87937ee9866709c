// A service with three endpoints on two nodes, behind real ztunnel processes:
// connections spread over all of them, and marking one UNHEALTHY in the config
// file moves new connections off it without a restart.
import * as assert from "node:assert/strict";
import {
  afterAll, loopbackAddress, readAll, service, socksConnect, startMesh, startReplyServer, test, type TestServer, workload,
} from "../testing/mod.ts";

const ip = { sleep: loopbackAddress(), r1: loopbackAddress(), r2: loopbackAddress(), r3: loopbackAddress() };
const backs = { "default/reviews.default.svc.cluster.local": { 9080: 9080 } };
const config = (r2: "Healthy" | "Unhealthy") => ({
  workloads: [
    workload({ name: "sleep", ip: ip.sleep, node: "node-a" }),
    workload({ name: "reviews-1", serviceAccount: "reviews", ip: ip.r1, node: "node-b", services: backs }),
    workload({ name: "reviews-2", serviceAccount: "reviews", ip: ip.r2, node: "node-b", services: backs, status: r2 }),
    workload({ name: "reviews-3", serviceAccount: "reviews", ip: ip.r3, node: "node-a", services: backs }),
  ],
  services: [service({ name: "reviews", vip: "10.96.0.20", ports: { 9080: 9080 } })],
});

const servers: TestServer[] = await Promise.all([
  startReplyServer(ip.r1, "reviews-1", 9080),
  startReplyServer(ip.r2, "reviews-2", 9080),
  startReplyServer(ip.r3, "reviews-3", 9080),
]);
const mesh = await startMesh(["node-a", "node-b"], config("Healthy"));
afterAll(async () => {
  await mesh.stop();
  for (const s of servers) await s.close();
});

/** Opens `n` connections to the service (10 at a time) and counts who answered. */
async function spread(n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i += 10) {
    const names = await Promise.all(Array.from({ length: Math.min(10, n - i) }, async () => {
      const r = await socksConnect({ address: ip.sleep, port: 15080 }, "reviews.default.svc.cluster.local", 9080);
      assert.ok(r.ok, `refused: ${!r.ok && r.reply}; node-a's last lines:\n${mesh.nodes["node-a"]!.proc.lines.slice(-8).join("\n")}`);
      r.socket.end();
      return readAll(r.socket);
    }));
    for (const name of names) counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

test("300 connections spread over all three endpoints on two nodes, each at least 20%", async () => {
  const counts = await spread(300);
  for (const name of ["reviews-1", "reviews-2", "reviews-3"]) {
    assert.ok((counts[name] ?? 0) >= 60, `${name} got ${counts[name] ?? 0} of 300: ${JSON.stringify(counts)}`);
  }
}, { timeout: 60_000 });

test("marking an endpoint UNHEALTHY in the file moves new connections off it, without a restart", async () => {
  const pid = mesh.nodes["node-a"]!.proc.child.pid;
  mesh.writeConfig(config("Unhealthy"));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const dump = await (await mesh.nodes["node-a"]!.admin("/config_dump")).json();
    if (dump.workloads.some((w: { name: string; status: string }) => w.name === "reviews-2" && w.status === "UNHEALTHY")) break;
    assert.ok(Date.now() < deadline, "node-a never saw reviews-2 become UNHEALTHY");
    await new Promise((r) => setTimeout(r, 50));
  }
  const counts = await spread(60);
  assert.equal(counts["reviews-2"] ?? 0, 0, JSON.stringify(counts));
  assert.ok((counts["reviews-1"] ?? 0) > 0 && (counts["reviews-3"] ?? 0) > 0, JSON.stringify(counts));
  assert.equal(mesh.nodes["node-a"]!.proc.child.pid, pid);
  assert.equal(mesh.nodes["node-a"]!.proc.child.exitCode, null);
}, { timeout: 30_000 });
