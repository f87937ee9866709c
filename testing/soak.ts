/**
 * Endurance ("soak"): mixed load through two ztunnels joined to a real
 * controlplane over delta xDS, while policy and config change and the
 * controlplane is killed with SIGKILL and restarted once. Every byte is checked
 * end to end; the report gives errors, bytes lost, RSS growth of each process and
 * p99 latency per window. tests/soak_test.ts runs it for 60 s, scripts/soak.ts
 * for 10 minutes.
 *
 * The load, all from node-a workloads to node-b workloads through SOCKS5 and HBONE:
 * - long transfers: a few streams, each a connection at a paced rate to an echo
 *   server, reopened every so often; SHA-256 of what went out against what came back;
 * - short request/response: connect to a Service by name, ask for N bytes at an
 *   offset of a shared random block, compare the answer byte for byte, time it;
 * - churn: connect to another Service and close at once, or after a 1-byte echo, reset.
 *
 * As in the other end-to-end tests, pods are YAML with a loopback podIP (no
 * kubelet) and their servers run in this process.
 *
 * @module
 */
import * as net from "node:net";
import { loopbackAddress } from "./loopback.ts";
import { startTestControlplane, startXdsMesh } from "./controlplane.ts";
import type { TestNode } from "./mesh.ts";
import { socksConnect } from "./socks.ts";
import { startEchoServer } from "./tcp.ts";
import { BLOCK, closeQuietly, echoOne, LONG_RATE, latencyWindows, longTransfer, mustApply, request, rssBytes, sleep, startApiServer } from "./_soak_load.ts";
import { apiPodYaml, EXTRA_SERVICE_YAML, meshYaml, NS, pod, POLICY_YAML } from "./_soak_mesh.ts";

/** How long and how often; the load itself is fixed (see the constants below). */
export interface SoakOptions {
  /** Length of the load, seconds. */
  readonly seconds: number;
  /** A policy change and, half a period later, a config change every this many seconds. Default 60, or a quarter of a shorter run. */
  readonly changeEverySeconds?: number;
  /** When the controlplane is killed (SIGKILL) and restarted, seconds into the run. Default: half way. */
  readonly restartAtSeconds?: number;
  /** RSS growth is measured from the first sample this long after start (or after the restart). Default 15, or a sixth of a shorter run. */
  readonly warmUpSeconds?: number;
  /** Width of a latency window, seconds. Default 10. */
  readonly windowSeconds?: number;
  /** Progress lines, one per window. */
  readonly log?: (line: string) => void;
  /** Stops the load early (the run still tears down and reports). */
  readonly signal?: AbortSignal;
}

/** RSS of one process: after the warm-up, at the end, and the growth between. */
export interface RssGrowth {
  readonly process: string;
  readonly pid: number;
  readonly warmBytes?: number;
  readonly lastBytes: number;
  readonly peakBytes: number;
  readonly growthPercent?: number;
}

/** Short request latency in one window, milliseconds. */
export interface LatencyWindow {
  readonly fromSeconds: number;
  readonly requests: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Changes and the restart that happened in this window. */
  readonly events: string[];
}

/** What a soak run found. */
export interface SoakReport {
  readonly runtime: "bun" | "deno";
  readonly seconds: number;
  readonly errors: { readonly total: number; readonly byKind: Record<string, number>; readonly first: string[] };
  /** Bytes the load expected back that never came (or came wrong: counted under errors too). */
  readonly bytesLost: number;
  readonly bytesChecked: number;
  readonly counts: { longTransfers: number; shortRequests: number; churned: number; policyChanges: number; configChanges: number; restarts: number };
  readonly restart?: { readonly atSeconds: number; readonly downMs: number; readonly resubscribedMs: number };
  readonly rss: RssGrowth[];
  readonly windows: LatencyWindow[];
}

const LONG_STREAMS = 3;
const SHORT_WORKERS = 4;
const SHORT_MAX_BYTES = 16 * 1024;
const CHURN_WORKERS = 2;
const PAUSE_MS = 10; // between one short request (or churned connection) and the next, per worker
const OPERATION_DEADLINE_MS = 10_000;
const PROPAGATION_DEADLINE_MS = 15_000;

/**
 * Runs the soak and reports; throws only when the mesh cannot be set up. Services
 * run on the runtime running the caller (testing/runtime_command.ts).
 *
 * @example
 * const report = await runSoak({ seconds: 60, changeEverySeconds: 15, restartAtSeconds: 30 });
 * console.log(formatSoakReport(report));
 * if (report.errors.total > 0 || report.bytesLost > 0) process.exit(1);
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const seconds = options.seconds;
  const every = options.changeEverySeconds ?? Math.min(60, seconds / 4);
  const restartAt = options.restartAtSeconds ?? seconds / 2;
  const warmUp = options.warmUpSeconds ?? Math.min(15, seconds / 6);
  const windowMs = (options.windowSeconds ?? 10) * 1000;
  const log = options.log ?? (() => {});

  const ip = { long: loopbackAddress(), short: loopbackAddress(), churn: loopbackAddress(), bulk: loopbackAddress(), api: loopbackAddress() };
  const bulk = await startEchoServer(ip.bulk, 9000);
  const api = await startApiServer(ip.api, 8080);
  const cp = await startTestControlplane();
  const teardown: (() => Promise<unknown>)[] = [() => bulk.close(), () => api.close(), () => cp.kill()];
  try {
    await mustApply(cp.apply(meshYaml(ip, 0)));
    const mesh = await startXdsMesh(cp, ["node-a", "node-b"]);
    teardown.unshift(() => mesh.stop());
    const nodes = [mesh.nodes["node-a"]!, mesh.nodes["node-b"]!];

    const t0 = Date.now();
    const stopAt = t0 + seconds * 1000;
    const running = () => Date.now() < stopAt && !options.signal?.aborted;
    const at = () => (Date.now() - t0) / 1000;
    const errors = { total: 0, byKind: {} as Record<string, number>, first: [] as string[] };
    const fail = (kind: string, e: unknown) => {
      errors.total++;
      errors.byKind[kind] = (errors.byKind[kind] ?? 0) + 1;
      if (errors.first.length < 20) errors.first.push(`${at().toFixed(1)} s ${kind}: ${(e as Error).message ?? e}`);
    };
    const bytes = { lost: 0, checked: 0 };
    const account = (expected: number, got: number) => {
      bytes.checked += expected;
      bytes.lost += Math.max(0, expected - got);
    };
    const counts = { longTransfers: 0, shortRequests: 0, churned: 0, policyChanges: 0, configChanges: 0, restarts: 0 };
    const latencies: { at: number; ms: number }[] = [];
    const events: { at: number; what: string }[] = [];
    // Every connection fails (and counts) once nothing moves on it for OPERATION_DEADLINE_MS; the SOCKS handshake has the same deadline.
    const open = async (client: string, host: string, port: number) => {
      const r = await socksConnect({ address: client, port: 15080 }, host, port, OPERATION_DEADLINE_MS);
      if (!r.ok) throw new Error(`SOCKS CONNECT via ${client} to ${host}:${port} refused (${r.reply})`);
      const s = r.socket;
      s.setTimeout(OPERATION_DEADLINE_MS, () => s.destroy(new Error(`${host}:${port}: nothing moved for ${OPERATION_DEADLINE_MS} ms`)));
      return s;
    };

    // Long transfers: the first connection of each stream is cut short differently so they do not all turn over together.
    const longSeconds = Math.min(60, Math.max(5, seconds / 3));
    const longStream = async (stream: number) => {
      for (let k = 0; running(); k++) {
        const length = k === 0 ? (longSeconds * (stream + 1)) / LONG_STREAMS : longSeconds;
        const result = await longTransfer(() => open(ip.long, ip.bulk, 9000), length, running, stream * 1000 + k);
        account(result.sent, result.matched ? result.received : 0);
        if (result.error) fail("long", result.error);
        else counts.longTransfers++;
      }
    };
    const shortWorker = async () => {
      while (running()) {
        const offset = Math.floor(Math.random() * 1048576);
        const length = 1 + Math.floor(Math.random() * SHORT_MAX_BYTES);
        const started = Date.now();
        const t = performance.now();
        let got = 0;
        try {
          const answer = await request(() => open(ip.short, `api.${NS}.svc.cluster.local`, 80), offset, length);
          if (!answer.equals(BLOCK.subarray(offset, offset + length))) throw new Error(`wrong answer: ${answer.length} bytes for ${length} at ${offset}`);
          got = length;
          counts.shortRequests++;
          latencies.push({ at: started - t0, ms: performance.now() - t });
        } catch (e) {
          fail("short", e);
        }
        account(length, got);
        await sleep(PAUSE_MS);
      }
    };
    const churnWorker = async () => {
      for (let k = 0; running(); k++) {
        let s: net.Socket | undefined;
        try {
          s = await open(ip.churn, `bulk.${NS}.svc.cluster.local`, 9000);
          if (k % 2 === 0) await closeQuietly(s);
          else account(1, (await echoOne(s)) ? 1 : 0);
          counts.churned++;
        } catch (e) {
          fail("churn", e);
        } finally {
          s?.destroy(); // after the echo: a reset, not a FIN
        }
        await sleep(PAUSE_MS);
      }
    };

    // Changes, one at a time: none overlaps another or the restart.
    let serial = Promise.resolve();
    const oneAtATime = (f: () => Promise<void>) => (serial = serial.then(f, f));
    const waitFor = async (what: string, f: () => Promise<boolean>, ms = PROPAGATION_DEADLINE_MS) => {
      const deadline = Date.now() + ms;
      while (!(await f().catch(() => false))) {
        if (Date.now() > deadline) throw new Error(`${what}: not seen within ${ms} ms`);
        await sleep(50);
      }
    };
    const dump = async (node: TestNode) => (await (await node.admin("/config_dump")).json()) as { services: { hostname: string }[]; policies: { name: string }[] };
    const policyChange = async (k: number) => {
      const on = k % 2 === 0;
      try {
        await mustApply(on ? cp.apply(POLICY_YAML) : cp.del(POLICY_YAML));
        events.push({ at: at(), what: `policy ${on ? "on" : "off"}` });
        await waitFor(`policy ${on ? "on" : "off"} on node-b`, async () => (await dump(nodes[1]!)).policies.some((p) => p.name === "soak-deny-intruder") === on);
        counts.policyChanges++;
      } catch (e) {
        fail("policy change", e);
      }
    };
    const configChange = async (k: number) => {
      const extra = k % 2 === 0;
      try {
        await mustApply(cp.apply(apiPodYaml(ip, k + 1) + (extra ? "---\n" + EXTRA_SERVICE_YAML : "")));
        if (!extra) await mustApply(cp.del(EXTRA_SERVICE_YAML));
        events.push({ at: at(), what: `api pod v${k + 1}, Service extra ${extra ? "added" : "removed"}` });
        for (const node of nodes) {
          await waitFor(`Service extra ${extra ? "on" : "off"} ${node.name}`, async () => (await dump(node)).services.some((s) => s.hostname.startsWith(`extra.${NS}.`)) === extra);
        }
        counts.configChanges++;
      } catch (e) {
        fail("config change", e);
      }
    };
    let restart: SoakReport["restart"];
    const restartControlplane = async () => {
      try {
        const streams = async (n: TestNode) => ((await (await n.admin("/debug/xds")).json()) as { stats: { streams: number } }).stats.streams;
        const before = await Promise.all(nodes.map(streams));
        const killedAt = at();
        const t = Date.now();
        await cp.kill("SIGKILL");
        events.push({ at: killedAt, what: "controlplane kill -9" });
        await cp.restart();
        const downMs = Date.now() - t;
        events.push({ at: at(), what: "controlplane ready again" });
        await waitFor("ztunnels resubscribe", async () => (await Promise.all(nodes.map(streams))).every((s, i) => s > before[i]!), 30_000);
        restart = { atSeconds: killedAt, downMs, resubscribedMs: Date.now() - t };
        counts.restarts++;
      } catch (e) {
        fail("restart", e);
      }
    };
    const scheduled: Promise<void>[] = [];
    const schedule = (atSeconds: number, f: () => Promise<void>) =>
      scheduled.push((async () => {
        while (running() && Date.now() < t0 + atSeconds * 1000) await sleep(Math.min(1000, t0 + atSeconds * 1000 - Date.now()));
        if (running()) await oneAtATime(f);
      })());
    for (let k = 0; every / 2 + k * every < seconds; k++) schedule(every / 2 + k * every, () => policyChange(k));
    for (let k = 0; (k + 1) * every < seconds; k++) schedule((k + 1) * every, () => configChange(k));
    if (restartAt < seconds) schedule(restartAt, restartControlplane);

    // RSS once a second; a restarted controlplane is a new process with its own series and its own warm-up.
    const firstControlplane = cp.proc.child.pid!;
    const samples = new Map<number, { process: string; since: number; points: { at: number; bytes: number }[] }>();
    const sampleRss = () => {
      const procs: [string, number][] = [...nodes.map((n): [string, number] => [`ztunnel ${n.name}`, n.proc.child.pid!]), ["controlplane", cp.proc.child.pid!]];
      for (const [name, pid] of procs) {
        const bytes = rssBytes(pid);
        if (bytes === undefined) continue;
        if (!samples.has(pid)) samples.set(pid, pid === firstControlplane || name !== "controlplane" ? { process: name, since: 0, points: [] } : { process: "controlplane (restarted)", since: at(), points: [] });
        samples.get(pid)!.points.push({ at: at(), bytes });
      }
    };
    const sampler = (async () => {
      for (let i = 1; running(); i++) {
        sampleRss();
        if (i % Math.round(windowMs / 1000) === 0) log(`soak: ${at().toFixed(0)} s, ${errors.total} errors, ${counts.shortRequests} short requests, ${counts.churned} churned, ${counts.longTransfers} long transfers done`);
        await sleep(1000);
      }
      sampleRss();
    })();

    await Promise.all([
      ...Array.from({ length: LONG_STREAMS }, (_, i) => longStream(i)),
      ...Array.from({ length: SHORT_WORKERS }, shortWorker),
      ...Array.from({ length: CHURN_WORKERS }, churnWorker),
      sampler,
      ...scheduled,
    ]);
    await serial;

    const rss = [...samples.entries()].map(([pid, s]): RssGrowth => {
      const warm = s.points.find((p) => p.at >= s.since + warmUp);
      const last = s.points.at(-1)!;
      return {
        process: s.process,
        pid,
        warmBytes: warm?.bytes,
        lastBytes: last.bytes,
        peakBytes: Math.max(...s.points.map((p) => p.bytes)),
        growthPercent: warm && warm !== last ? ((last.bytes - warm.bytes) / warm.bytes) * 100 : undefined,
      };
    });
    return {
      runtime: process.versions.bun ? "bun" : "deno",
      seconds: Math.round(at()),
      errors,
      bytesLost: bytes.lost,
      bytesChecked: bytes.checked,
      counts,
      restart,
      rss,
      windows: latencyWindows(latencies, events, windowMs, Math.min(Date.now(), stopAt) - t0),
    };
  } finally {
    for (const stop of teardown) await stop().catch(() => {});
  }
}

/** The report as text: a summary, an RSS table, a latency table and the first errors. */
export function formatSoakReport(r: SoakReport): string {
  const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
  const pct = (p?: number) => (p === undefined ? "n/a" : `${p >= 0 ? "+" : "−"}${Math.abs(p).toFixed(1)}%`);
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  return [
    `## Soak: ${r.seconds} s on ${r.runtime === "bun" ? "Bun" : "Deno"} — two ztunnels and a controlplane (delta xDS)`,
    "",
    `errors: ${r.errors.total}${r.errors.total ? ` (${Object.entries(r.errors.byKind).map(([k, n]) => `${k} ${n}`).join(", ")})` : ""}`,
    `bytes lost: ${r.bytesLost} of ${mib(r.bytesChecked)} checked end to end (SHA-256 for long transfers, byte for byte otherwise)`,
    `load: ${r.counts.longTransfers} long transfers (${LONG_STREAMS} streams × ${LONG_RATE / 1048576} MiB/s, echoed), ${r.counts.shortRequests} short requests, ${r.counts.churned} churned connections`,
    `changes: ${r.counts.policyChanges} policy, ${r.counts.configChanges} config, ${r.counts.restarts} controlplane restart` +
    (r.restart ? ` (kill -9 at ${r.restart.atSeconds.toFixed(1)} s, ready again after ${r.restart.downMs} ms, both ztunnels resubscribed after ${r.restart.resubscribedMs} ms)` : ""),
    "",
    "| process | RSS after warm-up | RSS at the end | peak | growth |",
    "|---|---|---|---|---|",
    ...r.rss.map((p) => `| ${p.process} (pid ${p.pid}) | ${p.warmBytes === undefined ? "n/a" : mib(p.warmBytes)} | ${mib(p.lastBytes)} | ${mib(p.peakBytes)} | ${pct(p.growthPercent)} |`),
    "",
    "| window | short requests | p50 | p99 | max | events |",
    "|---|---|---|---|---|---|",
    ...r.windows.map((w) => `| ${w.fromSeconds} s | ${w.requests} | ${ms(w.p50)} | ${ms(w.p99)} | ${ms(w.max)} | ${w.events.join("; ")} |`),
    ...(r.errors.first.length ? ["", "first errors:", ...r.errors.first.map((e) => `- ${e}`)] : []),
    "",
  ].join("\n");
}
