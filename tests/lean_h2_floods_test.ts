// HTTP/2 floods against a real HBONE server process on the lean stack
// (hbone/h2/), each from a hostile peer written here as raw frames over mutual
// TLS (testing/raw_h2.ts). Each case shows its bound: the server answers with
// the GOAWAY or RST_STREAM the bound names, keeps serving other tunnels, and its
// resident memory grows by less than RSS_LIMIT while the flood lasts.
// The server always runs on Bun with AMBIT_HBONE_HTTP2=lean: node:http2's bounds
// are each runtime's own, not Ambit's. The suite runs on Bun only: Deno's
// node:tls client keeps reading while paused, so it cannot play a peer that
// never reads (docs/hbone.md).
import * as assert from "node:assert/strict";
import * as net from "node:net";
import * as path from "node:path";
import { ConnectionPool } from "../hbone/mod.ts";
import { encodeFrame, encodeRstStream, encodeSettings, ErrorCode, FrameType, readUint32, Setting } from "../hbone/h2/frames.ts";
import {
  afterAll, exchange, issue, loopbackAddress, repoRoot, runtime, startEchoServer, startProcess, test, testCa, type TestProcess,
  writeCertFiles,
} from "../testing/mod.ts";
import { RawH2Peer, residentBytes } from "../testing/raw_h2.ts";

if (runtime === "bun") await floods();

async function floods(): Promise<void> {
  /** What a flood may add to the server's resident set: well under one stream window per stream it could open. */
  const RSS_LIMIT = 64 * 1024 * 1024;
  const STALL_PORT = 9;

  const ca = await testCa();
  const serverCert = await issue(ca, "echo", "echo-server");
  const clientCert = await issue(ca, "sleep", "sleep");
  const serverFiles = writeCertFiles(serverCert);
  const echo = await startEchoServer(loopbackAddress());
  const cleanups: (() => unknown)[] = [() => echo.close()];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  async function leanServer(tuning?: object): Promise<{ proc: TestProcess; address: string; port: number }> {
    const address = loopbackAddress();
    const entry = path.join(repoRoot, "tests/fixtures/hbone_echo_node.ts");
    const proc = startProcess(path.join(repoRoot, "node_modules", ".bin", "bun"), [
      "run", entry, "--listen", `${address}:0`, "--cert", serverFiles.cert, "--key", serverFiles.key, "--ca", serverFiles.ca,
      "--stall-port", String(STALL_PORT), ...(tuning ? ["--tuning", JSON.stringify(tuning)] : []),
    ], { env: { AMBIT_HBONE_HTTP2: "lean" } });
    cleanups.push(() => proc.kill());
    return { proc, address, port: JSON.parse(await proc.waitForLine(/"event":"listening"/)).port };
  }

  const server = await leanServer();
  const clocks = await leanServer({ keepaliveIntervalMs: 300, keepaliveTimeoutMs: 300, idleTimeoutMs: 1000, handshakeTimeoutMs: 400 });
  const pid = server.proc.child.pid!;
  const echoAuthority = `${echo.address}:${echo.port}`;

  /** Samples the server's RSS until `during` settles; returns the growth over the baseline at its peak. */
  async function rssGrowth(during: () => Promise<unknown>): Promise<number> {
    const baseline = await residentBytes(pid);
    let peak = baseline;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await residentBytes(pid));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      await during();
    } finally {
      sampling = false;
      await sampler;
    }
    return Math.max(peak, await residentBytes(pid)) - baseline;
  }

  /** Another peer's tunnel through the same server still carries bytes both ways. */
  async function stillServing(): Promise<void> {
    const pool = new ConnectionPool({ connectTimeoutMs: 5000 });
    try {
      const t = await pool.connect({ source: clientCert, hboneAddress: server, expectedIdentities: [serverCert.identity], target: echo });
      const r = await exchange(t.stream, 256 * 1024);
      assert.equal(r.receivedSha256, r.sentSha256);
    } finally {
      pool.close();
    }
  }

  async function peer(on = server): Promise<RawH2Peer> {
    const p = await RawH2Peer.connect(on.address, on.port, clientCert);
    cleanups.push(() => p.destroy());
    return p;
  }

  test("CONTINUATION flood (empty frames, so no byte limit is reached): GOAWAY ENHANCE_YOUR_CALM", async () => {
    const p = await peer();
    // Flooding before the server's SETTINGS arrive would test the other guard: bytes sent while the server still
    // checks the certificate are cut off past 128 KiB (bun_tls.ts MAX_EARLY_BYTES), with no GOAWAY to see.
    await p.waitFor((f) => f.type === FrameType.SETTINGS);
    const growth = await rssGrowth(async () => {
      const empty = encodeFrame(FrameType.CONTINUATION, 0, 1);
      await p.write(p.connectHeaders(1, echoAuthority, 0));
      for (let i = 0; i < 20 && !p.closed; i++) await p.write(...Array.from({ length: 5000 }, () => empty));
      assert.equal(await p.goawayCode(), ErrorCode.ENHANCE_YOUR_CALM);
    });
    assert.ok(growth < RSS_LIMIT, `RSS grew ${growth} bytes`);
    await stillServing();
  }, { timeout: 30_000 });

  for (const [name, frame, line] of [
    ["PING", encodeFrame(FrameType.PING, 0, 0, new Uint8Array(8)), "control frames queued"],
    ["SETTINGS", encodeSettings([]), "control frames queued"],
  ] as const) {
    test(`${name} flood from a peer that never reads the answers: GOAWAY ENHANCE_YOUR_CALM, answers bounded`, async () => {
      const p = await peer();
      await p.waitFor((f) => f.type === FrameType.SETTINGS);
      p.pause();
      const batch = Buffer.concat(Array.from({ length: 10_000 }, () => frame));
      const refusals = () => server.proc.lines.filter((l) => l.includes("session-error") && l.includes(line)).length;
      const before = refusals();
      const growth = await rssGrowth(async () => {
        // ~40 MB of answers: far more than loopback's socket buffers, so the server's own backlog fills.
        for (let i = 0; i < 250 && !p.closed && refusals() === before; i++) await p.write(batch);
      });
      assert.equal(refusals(), before + 1, "the server never gave up on the flood");
      p.resume();
      assert.equal(await p.goawayCode(), ErrorCode.ENHANCE_YOUR_CALM);
      assert.ok(growth < RSS_LIMIT, `RSS grew ${growth} bytes`);
      await stillServing();
    }, { timeout: 60_000 });
  }

  test("rapid reset (HEADERS + RST_STREAM pairs, CVE-2023-44487): GOAWAY ENHANCE_YOUR_CALM and not one upstream dial", async () => {
    const p = await peer();
    await p.waitFor((f) => f.type === FrameType.SETTINGS); // as above: the session, not the early-bytes cut
    const dialsBefore = echo.accepted();
    const growth = await rssGrowth(async () => {
      for (let id = 1; id < 2 * 20_000 && !p.closed; id += 2 * 500) {
        const frames = [];
        for (let k = id; k < id + 2 * 500; k += 2) frames.push(p.connectHeaders(k, echoAuthority), encodeRstStream(k, ErrorCode.CANCEL));
        await p.write(...frames);
      }
      assert.equal(await p.goawayCode(), ErrorCode.ENHANCE_YOUR_CALM);
    });
    assert.equal(echo.accepted(), dialsBefore, "a stream reset in the same read must not cost a connect to the workload");
    assert.ok(growth < RSS_LIMIT, `RSS grew ${growth} bytes`);
    await stillServing();
  }, { timeout: 30_000 });

  test("the server advertises 100 streams and refuses the 101st with REFUSED_STREAM", async () => {
    const p = await peer();
    const settings = await p.waitFor((f) => f.type === FrameType.SETTINGS);
    const advertised = new Map<number, number>();
    for (let i = 0; i < settings.payload.length; i += 6) advertised.set((settings.payload[i]! << 8) | settings.payload[i + 1]!, readUint32(settings.payload, i + 2));
    assert.equal(advertised.get(Setting.MAX_CONCURRENT_STREAMS), 100);
    await p.write(...Array.from({ length: 101 }, (_, i) => p.connectHeaders(2 * i + 1, `127.0.0.1:${STALL_PORT}`)));
    assert.equal(await p.resetCode(201), ErrorCode.REFUSED_STREAM);
    assert.equal(p.frames.filter((f) => f.type === FrameType.RST_STREAM).length, 1);
    p.destroy();
  });

  test("streams to a workload that stops reading: the server holds at most the connection window, not 32 stream windows", async () => {
    const p = await peer();
    const streams = Array.from({ length: 32 }, (_, i) => 2 * i + 1);
    await p.write(...streams.map((id) => p.connectHeaders(id, `127.0.0.1:${STALL_PORT}`)));
    await Promise.all(streams.map((id) => p.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === id)));
    // Send as much as the server's windows allow, then keep offering until no more window comes for a second.
    let connectionWindow = 65_535;
    const streamWindow = new Map(streams.map((id) => [id, 4 * 1024 * 1024]));
    let granted = 0;
    const credit = () => {
      for (const f of p.frames.splice(0)) {
        if (f.type !== FrameType.WINDOW_UPDATE) continue;
        const n = readUint32(f.payload, 0) & 0x7fffffff;
        if (f.streamId === 0) connectionWindow += n;
        else streamWindow.set(f.streamId, (streamWindow.get(f.streamId) ?? 0) + n);
        granted += n;
      }
    };
    let sent = 0;
    const growth = await rssGrowth(async () => {
      let idleSince = Date.now();
      while (Date.now() - idleSince < 1000) {
        credit();
        let progressed = false;
        for (const id of streams) {
          const n = Math.min(connectionWindow, streamWindow.get(id)!, 256 * 1024);
          if (n <= 0) continue;
          await p.write(encodeFrame(FrameType.DATA, 0, id, new Uint8Array(n)));
          connectionWindow -= n;
          streamWindow.set(id, streamWindow.get(id)! - n);
          sent += n;
          progressed = true;
        }
        if (progressed) idleSince = Date.now();
        else await new Promise((r) => setTimeout(r, 20));
      }
    });
    // The opening connection window is 16 MiB; each stalled stream may add the one chunk its pipe took before it paused.
    assert.ok(sent <= 16 * 1024 * 1024 + streams.length * 256 * 1024, `the server let ${sent} bytes in (${granted} granted)`);
    assert.ok(!p.closed, "an honest (if stalled) peer keeps its connection");
    assert.ok(growth < RSS_LIMIT, `RSS grew ${growth} bytes`);
    await stillServing();
    p.destroy();
  }, { timeout: 30_000 });

  test("a peer that answers no keepalive PING is dropped", async () => {
    const started = Date.now();
    const p = await peer(clocks);
    await p.waitFor((f) => f.type === FrameType.PING && (f.flags & 1) === 0, 5000);
    await p.closedPromise;
    assert.ok(Date.now() - started >= 500, "dropped before the keepalive interval and timeout had passed");
  });

  test("a live connection with no stream is closed after the idle timeout, with GOAWAY NO_ERROR", async () => {
    const p = await peer(clocks);
    p.answerPings = true;
    assert.equal(await p.goawayCode(5000), ErrorCode.NO_ERROR);
    await p.closedPromise;
  });

  test("a TCP connection that never starts TLS is closed at the handshake timeout", async () => {
    const started = Date.now();
    const socket = net.connect({ host: clocks.address, port: clocks.port });
    socket.on("error", () => {});
    await new Promise((r) => socket.once("close", r));
    assert.ok(Date.now() - started >= 350, `closed after ${Date.now() - started} ms`);
    await clocks.proc.waitForLine(/session-error.*TLS handshake not done/);
  });
}
