// Istio's byte counters on both reporters, against two real ztunnels: an
// asymmetric transfer (1 MiB up, 10 KiB down) lands in the right counters —
// istio_tcp_received_bytes_total is the request direction, istio_tcp_sent_bytes_total
// the response, on node-a (reporter=source) and node-b (reporter=destination) alike —
// and a long-lived transfer's bytes show while it is still open. Also the
// destination side's labels on plaintext 15006 and on the same-node hand-off.
import * as assert from "node:assert/strict";
import * as net from "node:net";
import { afterAll, loopbackAddress, patternBytes, service, socksConnect, startMesh, type TestNode, test, workload } from "../testing/mod.ts";

const UP = 1024 * 1024;
const DOWN = 10 * 1024;
const ip = { sleep: loopbackAddress(), sink: loopbackAddress(), near: loopbackAddress() };
const HOST = "sink.default.svc.cluster.local";

// The sink: reads UP bytes, answers DOWN bytes and closes; a connection that sends "hold" is kept open.
function startSink(address: string): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    let got = 0;
    s.on("error", () => {});
    s.on("data", (c: Buffer) => {
      got += c.length;
      if (got === UP) s.end(patternBytes(DOWN));
    });
    s.on("end", () => s.end());
  });
  return new Promise((resolve) => server.listen(9000, address, () => resolve(server)));
}

const sinks = await Promise.all([startSink(ip.sink), startSink(ip.near)]);
const mesh = await startMesh(["node-a", "node-b"], {
  workloads: [
    workload({ name: "sleep", ip: ip.sleep, node: "node-a" }),
    workload({ name: "sink", ip: ip.sink, node: "node-b", services: { [`default/${HOST}`]: { 80: 9000 } } }),
    workload({ name: "near", ip: ip.near, node: "node-a", services: { "default/near.default.svc.cluster.local": { 80: 9000 } } }),
  ],
  services: [service({ name: "sink", vip: "10.96.0.30", ports: { 80: 9000 } }), service({ name: "near", vip: "10.96.0.31", ports: { 80: 9000 } })],
});
const a = mesh.nodes["node-a"]!;
const b = mesh.nodes["node-b"]!;
afterAll(async () => {
  await mesh.stop();
  for (const s of sinks) s.close();
});

/** The value of the one series of `name` whose labels include all of `labels` (0 when none). */
async function counter(node: TestNode, name: string, labels: Record<string, string>): Promise<number> {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const lines = (await node.metrics()).split("\n").filter((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)));
  return lines.reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
}

/** Polls until `check` is true, or fails with `what` at the deadline. */
async function eventually(what: string, check: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function transfer(host: string): Promise<number> {
  const r = await socksConnect({ address: ip.sleep, port: 15080 }, host, 80);
  assert.ok(r.ok, `SOCKS CONNECT refused: ${!r.ok && r.reply}`);
  let down = 0;
  const done = new Promise<void>((resolve) => r.socket.on("end", resolve));
  r.socket.on("data", (c: Buffer) => void (down += c.length));
  r.socket.end(patternBytes(UP));
  await done;
  return down;
}

test("1 MiB up, 10 KiB down: received = request bytes, sent = response bytes, on both reporters", async () => {
  const edge = { source_workload: "sleep", destination_workload: "sink" };
  assert.equal(await transfer(HOST), DOWN);
  const source = { ...edge, reporter: "source" };
  const destination = { ...edge, reporter: "destination", destination_service: HOST };
  await eventually("both connections closed", async () =>
    (await counter(a, "istio_tcp_connections_closed_total", source)) === 1 && (await counter(b, "istio_tcp_connections_closed_total", destination)) === 1);
  for (const [node, labels] of [[a, source], [b, destination]] as const) {
    assert.equal(await counter(node, "istio_tcp_received_bytes_total", labels), UP, `${labels.reporter}: received`);
    assert.equal(await counter(node, "istio_tcp_sent_bytes_total", labels), DOWN, `${labels.reporter}: sent`);
  }
}, { timeout: 30_000 });

test("a long-lived transfer's bytes show while it is open, on both reporters", async () => {
  const labels = { source_workload: "sleep", destination_workload: "sink" };
  const before = await Promise.all([a, b].map((n) => counter(n, "istio_tcp_received_bytes_total", labels)));
  const closedBefore = await Promise.all([a, b].map((n) => counter(n, "istio_tcp_connections_closed_total", labels)));
  const r = await socksConnect({ address: ip.sleep, port: 15080 }, HOST, 80);
  assert.ok(r.ok);
  const half = 256 * 1024;
  r.socket.write(patternBytes(half)); // less than the sink waits for: the connection stays open
  for (const [i, node] of [a, b].entries()) {
    await eventually(`${node.name} counts the open connection's bytes`, async () => (await counter(node, "istio_tcp_received_bytes_total", labels)) === before[i]! + half);
    assert.equal(await counter(node, "istio_tcp_connections_closed_total", labels), closedBefore[i], "the connection is still open");
  }
  r.socket.destroy();
}, { timeout: 30_000 });

test("the same-node hand-off: both reporters on node-a name the service, the destination workload and its principal", async () => {
  assert.equal(await transfer("near.default.svc.cluster.local"), DOWN);
  const labels = {
    source_workload: "sleep",
    destination_service: "near.default.svc.cluster.local",
    destination_workload: "near",
    destination_principal: "spiffe://cluster.local/ns/default/sa/near",
    source_principal: "spiffe://cluster.local/ns/default/sa/sleep",
  };
  for (const reporter of ["source", "destination"]) {
    await eventually(`reporter=${reporter} closed`, async () => (await counter(a, "istio_tcp_connections_closed_total", { ...labels, reporter })) === 1);
    assert.equal(await counter(a, "istio_tcp_received_bytes_total", { ...labels, reporter }), UP);
    assert.equal(await counter(a, "istio_tcp_sent_bytes_total", { ...labels, reporter }), DOWN);
  }
}, { timeout: 30_000 });

test("plaintext 15006: the destination side names the service, workload and principal; no source principal; security policy none", async () => {
  const socket = net.connect({ host: ip.sink, port: 15006, localAddress: ip.sleep });
  let down = 0;
  const done = new Promise<void>((resolve) => socket.on("end", resolve));
  socket.on("data", (c: Buffer) => void (down += c.length));
  socket.end(patternBytes(UP));
  await done;
  assert.equal(down, DOWN);
  const labels = {
    reporter: "destination",
    source_workload: "sleep",
    source_principal: "unknown",
    destination_service: HOST,
    destination_workload: "sink",
    destination_principal: "spiffe://cluster.local/ns/default/sa/sink",
    connection_security_policy: "none",
  };
  await eventually("plaintext connection closed", async () => (await counter(b, "istio_tcp_connections_closed_total", labels)) === 1);
  assert.equal(await counter(b, "istio_tcp_received_bytes_total", labels), UP);
  assert.equal(await counter(b, "istio_tcp_sent_bytes_total", labels), DOWN);
}, { timeout: 30_000 });
