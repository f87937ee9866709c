// The HBONE client pool and stream semantics against real servers on loopback:
// stream multiplexing limits, half-close, resets, and a server on the *other*
// runtime (Bun client ↔ Deno server and the reverse), since mixed pairs are where
// flow-control bugs have shown up.
import * as assert from "node:assert/strict";
import * as net from "node:net";
import { constants as h2 } from "node:http2";
import { ConnectionPool } from "../hbone/mod.ts";
import { defaultHttp2Stack } from "../hbone/http2_stack.ts";
import {
  afterAll, exchange, goPeer, issue, loopbackAddress, runtime, startEchoServer, startProcess, test, testCa,
  type TestProcess, writeCertFiles, repoRoot,
} from "../testing/mod.ts";
import * as path from "node:path";

const ca = await testCa();
const serverCert = await issue(ca, "echo", "echo-server");
const clientCert = await issue(ca, "sleep", "sleep");
const serverFiles = writeCertFiles(serverCert);
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function goServer(): Promise<{ address: string; port: number }> {
  const address = loopbackAddress();
  const go = startProcess(goPeer("hbone_server"), ["-listen", `${address}:0`, "-cert", serverFiles.cert, "-key", serverFiles.key, "-ca", serverFiles.ca]);
  cleanups.push(() => go.kill());
  return { address, port: Number(JSON.parse(await go.waitForLine(/"event":"listening"/)).addr.split(":").pop()) };
}

/** Starts the Ambit HBONE fixture server on the given runtime binary. */
async function ambitServer(on: "bun" | "deno"): Promise<{ proc: TestProcess; address: string; port: number }> {
  const address = loopbackAddress();
  const bin = path.join(repoRoot, "node_modules", ".bin", on);
  const entry = path.join(repoRoot, "tests/fixtures/hbone_echo_node.ts");
  const args = on === "deno" ? ["run", "-A", "--no-check", entry] : ["run", entry];
  const proc = startProcess(bin, [...args, "--listen", `${address}:0`, "--cert", serverFiles.cert, "--key", serverFiles.key, "--ca", serverFiles.ca]);
  cleanups.push(() => proc.kill());
  return { proc, address, port: JSON.parse(await proc.waitForLine(/"event":"listening"/)).port };
}

test("200 concurrent CONNECT streams share at most 2 TLS connections and all complete", async () => {
  const server = await goServer();
  const pool = new ConnectionPool();
  cleanups.push(() => pool.close());
  const results = await Promise.all(Array.from({ length: 200 }, async () => {
    const t = await pool.connect({ source: clientCert, hboneAddress: server, expectedIdentities: [serverCert.identity], target: { address: "127.0.0.1", port: 9 } });
    return exchange(t.stream, 64 * 1024);
  }));
  for (const r of results) assert.equal(r.receivedSha256, r.sentSha256);
  const stats = pool.stats();
  assert.ok(stats.connectionsOpened <= 2, `opened ${stats.connectionsOpened} connections`);
  assert.equal(stats.activeStreams, 0);
}, { timeout: 60_000 });

test("idle connections are closed after the idle timeout", async () => {
  const server = await goServer();
  const pool = new ConnectionPool({ idleTimeoutMs: 200 });
  cleanups.push(() => pool.close());
  const t = await pool.connect({ source: clientCert, hboneAddress: server, expectedIdentities: [serverCert.identity], target: { address: "127.0.0.1", port: 9 } });
  await exchange(t.stream, 10);
  assert.equal(pool.stats().openConnections, 1);
  const deadline = Date.now() + 5000;
  while (pool.stats().openConnections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(pool.stats().openConnections, 0);
});

// Lean only: starting a connection's stream ids near 2^31 is a test seam of the lean session.
if (defaultHttp2Stack() === "lean") {
  test("a connection about to run out of stream ids takes no new tunnel; a new one is opened and the old one's tunnels carry on", async () => {
    const server = await goServer();
    // Three ids left on each connection: 2^31-5, 2^31-3, 2^31-1.
    const pool = new ConnectionPool({ tuning: { firstStreamId: 2 ** 31 - 5 } });
    cleanups.push(() => pool.close());
    const open = () => pool.connect({ source: clientCert, hboneAddress: server, expectedIdentities: [serverCert.identity], target: { address: "127.0.0.1", port: 9 } });
    const held = [await open(), await open(), await open()];
    assert.deepEqual(held.map((t) => t.connectionId), [1, 1, 1]);
    const fourth = await open();
    assert.equal(fourth.connectionId, 2);
    assert.equal(pool.stats().connectionsOpened, 2);
    for (const t of [...held, fourth]) {
      const r = await exchange(t.stream, 64 * 1024);
      assert.equal(r.receivedSha256, r.sentSha256);
    }
  }, { timeout: 30_000 });
}

const other = runtime === "bun" ? "deno" : "bun";

/** Opens a tunnel through `server` to a fresh upstream that behaves as `onUpstream` says. */
async function tunnelTo(server: { address: string; port: number }, onUpstream: (s: net.Socket) => void) {
  const upstream = net.createServer({ allowHalfOpen: true }, onUpstream);
  await new Promise<void>((r) => upstream.listen(0, loopbackAddress(), () => r()));
  cleanups.push(() => upstream.close());
  const up = upstream.address() as net.AddressInfo;
  const pool = new ConnectionPool();
  cleanups.push(() => pool.close());
  return pool.connect({ source: clientCert, hboneAddress: server, expectedIdentities: [serverCert.identity], target: { address: up.address, port: up.port } });
}

test(`half-close propagates both ways through an Ambit server on ${other}`, async () => {
  const server = await ambitServer(other);
  // An upstream that replies only after the client's FIN: the FIN must cross the tunnel.
  const t = await tunnelTo(server, (s) => {
    let n = 0;
    s.on("data", (d) => (n += d.length));
    s.on("end", () => s.end(`got ${n} bytes`));
  });
  const chunks: Buffer[] = [];
  t.stream.on("data", (c: Buffer) => chunks.push(c));
  t.stream.end(Buffer.alloc(3 * 1024 * 1024, 7));
  await new Promise((r) => t.stream.on("end", r));
  assert.equal(Buffer.concat(chunks).toString(), `got ${3 * 1024 * 1024} bytes`);
}, { timeout: 30_000 });

test(`10 MiB each way between runtimes (${runtime} client, ${other} server)`, async () => {
  const server = await ambitServer(other);
  const echo = await startEchoServer(loopbackAddress());
  cleanups.push(() => echo.close());
  const pool = new ConnectionPool();
  cleanups.push(() => pool.close());
  const t = await pool.connect({ source: clientCert, hboneAddress: server, expectedIdentities: [serverCert.identity], target: echo });
  const r = await exchange(t.stream, 10 * 1024 * 1024);
  assert.equal(r.received, 10 * 1024 * 1024);
  assert.equal(r.receivedSha256, r.sentSha256);
}, { timeout: 60_000 });

test(`a client RST_STREAM closes the upstream socket (${other} server)`, async () => {
  const server = await ambitServer(other);
  let closed!: () => void;
  const upstreamClosed = new Promise<void>((r) => (closed = r));
  const t = await tunnelTo(server, (s) => {
    // A reading socket: Deno notices a peer's reset only while it reads.
    s.resume();
    s.on("error", () => closed());
    // Depending on the runtime the upstream sees a RST (error/close) or a FIN (end).
    s.on("end", () => closed());
    s.on("close", () => closed());
  });
  t.stream.write("hello");
  await new Promise((r) => setTimeout(r, 100));
  t.stream.close(h2.NGHTTP2_CANCEL);
  await upstreamClosed;
}, { timeout: 15_000 });
