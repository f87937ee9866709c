// The plain-HTTP metrics listeners as a hostile peer sees them: the
// controlplane's `--metrics-listen` (istiod's 15014) and a ztunnel's 15020. Both
// are unauthenticated by design (Prometheus scrapes them), so anyone who can
// reach the port can try to hold it or fill the process: slowloris headers, one
// huge header, a thousand idle connections, every method but GET with and
// without a body. Each attack runs while a real scrape must still answer, and
// afterwards the process must be alive, its resident memory bounded, and the
// attacker's sockets closed by the server within its header deadline. Nothing
// is faked: real processes, raw TCP from the test.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import { afterAll, loopbackAddress, startMesh, startTestControlplane, test, type TestProcess, workload } from "../testing/mod.ts";

const cpMetrics = { address: loopbackAddress(), port: 15014 };
const cp = await startTestControlplane(["--metrics-listen", `${cpMetrics.address}:15014`]);
const mesh = await startMesh(["node-a"], { workloads: [workload({ name: "sleep", ip: loopbackAddress(), node: "node-a" })], services: [], policies: [] });
const node = mesh.nodes["node-a"]!;
afterAll(async () => {
  await mesh.stop();
  await cp.kill();
});

interface Target {
  readonly name: string;
  readonly at: { address: string; port: number };
  readonly proc: () => TestProcess;
}
const targets: Target[] = [
  { name: "controlplane --metrics-listen", at: cpMetrics, proc: () => cp.proc },
  { name: "ztunnel :15020", at: { address: node.address, port: 15020 }, proc: () => node.proc },
];

/** The process's resident set, in MiB (Linux). */
function rssMiB(proc: TestProcess): number {
  const status = fs.readFileSync(`/proc/${proc.child.pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) / 1024;
}

/** A real scrape: GET /metrics answers 200 with Prometheus text, within `ms`. */
async function scrape(t: Target, ms = 5000): Promise<void> {
  const res = await fetch(`http://${t.at.address}:${t.at.port}/metrics`, { signal: AbortSignal.timeout(ms) });
  assert.equal(res.status, 200);
  assert.match(await res.text(), /^# (HELP|TYPE) /m);
}

/** Opens a raw TCP connection; resolves once connected. */
function connect(t: Target): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: t.at.address, port: t.at.port }, () => resolve(s));
    s.once("error", reject);
  });
}

/** Resolves when the server has closed `s` (or it errored), with when. */
const closedByServer = (s: net.Socket) => new Promise<number>((resolve) => {
  s.on("error", () => {});
  s.once("close", () => resolve(Date.now()));
});

/** Sends a raw request and collects whatever comes back until the server closes or `ms` pass. */
async function raw(t: Target, bytes: string | Buffer, ms = 5000): Promise<string> {
  const s = await connect(t);
  let got = "";
  s.on("data", (c: Buffer) => (got += c.toString("latin1")));
  s.on("error", () => {});
  s.write(bytes);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    s.once("close", () => (clearTimeout(timer), resolve()));
    // One response is all we need: stop at the end of its head.
    s.on("data", () => got.includes("\r\n\r\n") && (clearTimeout(timer), resolve()));
  });
  s.destroy();
  return got;
}

const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);

for (const t of targets) {
  test(`${t.name}: slowloris headers are cut off at the header deadline while scrapes keep answering`, async () => {
    const before = rssMiB(t.proc());
    const slow = await Promise.all(Array.from({ length: 200 }, () => connect(t)));
    const closed = slow.map(closedByServer);
    const started = Date.now();
    for (const s of slow) s.write("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    // One more header byte every second: never a whole head, never idle for long.
    const drip = setInterval(() => { for (const s of slow) if (!s.destroyed) s.write("a"); }, 1000);
    try {
      await scrape(t);
      const when = await Promise.all(closed);
      const longest = Math.max(...when) - started;
      assert.ok(longest < 20_000, `the last slowloris connection was closed ${longest} ms after it started`);
    } finally {
      clearInterval(drip);
      for (const s of slow) s.destroy();
    }
    await scrape(t);
    assert.ok(rssMiB(t.proc()) - before < 64, `resident memory grew from ${before.toFixed(0)} to ${rssMiB(t.proc()).toFixed(0)} MiB`);
  }, { timeout: 40_000 });

  test(`${t.name}: a huge header is refused without being held, and the server keeps serving`, async () => {
    const before = rssMiB(t.proc());
    for (let i = 0; i < 5; i++) {
      const response = await raw(t, `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(2 * 1024 * 1024)}\r\n\r\n`);
      const status = statusOf(response);
      assert.ok(status === 0 || status === 431 || status === 400, `a 2 MiB header answered ${status}: ${response.slice(0, 80)}`);
    }
    const many = await raw(t, `GET /metrics HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 5000 }, (_, i) => `X-H${i}: v`).join("\r\n")}\r\n\r\n`);
    assert.ok([0, 400, 431].includes(statusOf(many)), `5000 headers answered ${statusOf(many)}`);
    await scrape(t);
    assert.ok(rssMiB(t.proc()) - before < 64, `resident memory grew from ${before.toFixed(0)} to ${rssMiB(t.proc()).toFixed(0)} MiB`);
  }, { timeout: 60_000 });

  test(`${t.name}: a thousand idle connections neither stop scrapes nor stay open past the deadline`, async () => {
    const before = rssMiB(t.proc());
    const idle = await Promise.all(Array.from({ length: 1000 }, () => connect(t)));
    const closed = idle.map(closedByServer);
    const started = Date.now();
    try {
      await scrape(t);
      const longest = Math.max(...await Promise.all(closed)) - started;
      assert.ok(longest < 20_000, `the last idle connection was closed ${longest} ms after it opened`);
    } finally {
      for (const s of idle) s.destroy();
    }
    await scrape(t);
    assert.ok(rssMiB(t.proc()) - before < 64, `resident memory grew from ${before.toFixed(0)} to ${rssMiB(t.proc()).toFixed(0)} MiB`);
  }, { timeout: 40_000 });

  test(`${t.name}: only GET and HEAD read metrics; other methods and bodies are refused, not buffered`, async () => {
    const before = rssMiB(t.proc());
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND"]) {
      const status = statusOf(await raw(t, `${method} /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`));
      assert.ok(status === 404 || status === 405, `${method} /metrics answered ${status}`);
    }
    const connectStatus = statusOf(await raw(t, "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n"));
    assert.ok(connectStatus === 0 || connectStatus >= 400, `CONNECT answered ${connectStatus}`);
    // A 64 MiB body announced and sent to a path that takes none: answered, and its bytes not kept.
    const s = await connect(t);
    let head = "";
    s.on("data", (c: Buffer) => (head += c.toString("latin1")));
    const ended = closedByServer(s);
    s.write(`POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n`);
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    for (let i = 0; i < 64 && !s.destroyed; i++) {
      if (!s.write(chunk)) await Promise.race([new Promise((r) => s.once("drain", r)), ended]);
    }
    await Promise.race([ended, new Promise((r) => setTimeout(r, 3000))]);
    s.destroy();
    assert.ok([404, 405, 413].includes(statusOf(head)), `a POST with a 64 MiB body answered ${statusOf(head)}`);
    const chunked = statusOf(await raw(t, "POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
    // 411 on Deno, whose small-surface server takes bodies only with Content-Length (runtime/http1_deno.ts).
    assert.ok([404, 405, 411].includes(chunked), `a chunked POST answered ${chunked}`);
    const head200 = statusOf(await raw(t, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
    assert.equal(head200, 200);
    await scrape(t);
    assert.ok(rssMiB(t.proc()) - before < 64, `resident memory grew from ${before.toFixed(0)} to ${rssMiB(t.proc()).toFixed(0)} MiB`);
    assert.equal(t.proc().child.exitCode, null, "the process is still running");
  }, { timeout: 60_000 });
}
