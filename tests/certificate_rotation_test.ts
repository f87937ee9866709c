// Certificates with a 20 s lifetime, issued by the controlplane's CA over the
// real CSR endpoint, rotate under a continuous transfer through two ztunnels;
// the transfer never drops and every byte arrives.
import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as net from "node:net";
import { afterAll, loopbackAddress, patternBytes, socksConnect, startTestControlplane, startXdsMesh, test } from "../testing/mod.ts";

const ip = { client: loopbackAddress(), server: loopbackAddress() };
// A reset reaching the echo server (a ztunnel stopping at the end) must not crash the test process;
// a drop during the transfer still fails the test through the client's socket.
const echo = net.createServer({ allowHalfOpen: true }, (s) => (s.on("error", () => {}), s.pipe(s)));
await new Promise<void>((r) => echo.listen(9000, ip.server, () => r()));
const cp = await startTestControlplane();
const yaml = `
apiVersion: v1
kind: Namespace
metadata: {name: rot, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: rot}
spec: {nodeName: node-a, serviceAccountName: client, containers: [{name: c, image: c}]}
status: {phase: Running, podIP: ${ip.client}}
---
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: rot, labels: {app: server}}
spec: {nodeName: node-b, serviceAccountName: server, containers: [{name: s, image: s}]}
status: {phase: Running, podIP: ${ip.server}}
`;
assert.equal((await cp.apply(yaml)).status, 200);
const mesh = await startXdsMesh(cp, ["node-a", "node-b"], ["--cert-ttl", "20"]);
afterAll(async () => {
  await mesh.stop();
  await cp.kill();
  echo.close();
});

const serials = async (node: string) =>
  ((await (await mesh.nodes[node]!.admin("/config_dump")).json()).certificates as { identity: string; serialNumber: string }[]).map((c) => c.serialNumber);

test("20 s certificates rotate under a 25 s continuous transfer with no connection dropped", async () => {
  const first = { a: await serials("node-a"), b: await serials("node-b") };
  const r = await socksConnect({ address: ip.client, port: 15080 }, ip.server, 9000);
  assert.ok(r.ok);
  const socket = r.socket;
  const sent = createHash("sha256");
  const got = createHash("sha256");
  let received = 0;
  const done = new Promise<void>((resolve, reject) => {
    socket.on("data", (d: Buffer) => {
      got.update(d);
      received += d.length;
    });
    socket.on("end", resolve);
    socket.on("error", reject);
    socket.on("close", () => resolve());
  });
  let total = 0;
  const until = Date.now() + 25_000;
  while (Date.now() < until) {
    const piece = patternBytes(32 * 1024, total);
    sent.update(piece);
    total += piece.length;
    socket.write(piece);
    await new Promise((res) => setTimeout(res, 40));
  }
  socket.end();
  await done;
  assert.equal(received, total, "bytes lost");
  assert.equal(got.digest("hex"), sent.digest("hex"));
  const now = { a: await serials("node-a"), b: await serials("node-b") };
  assert.notDeepEqual(now.a, first.a, "node-a's certificate never rotated");
  assert.notDeepEqual(now.b, first.b, "node-b's certificate never rotated");
  const issued = mesh.nodes["node-b"]!.proc.lines.filter((l) => /certificate issued\tidentity=spiffe:\/\/cluster\.local\/ns\/rot\/sa\/server/.test(l)).length;
  assert.ok(issued >= 3, `node-b issued ${issued} certificates in 25 s with a 20 s lifetime`);
  // New connections after the rotations work too.
  const again = await socksConnect({ address: ip.client, port: 15080 }, ip.server, 9000);
  assert.ok(again.ok);
  again.socket.end("bye");
}, { timeout: 60_000 });
