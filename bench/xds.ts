// The controlplane at mesh scale, each figure beside its reference measured in the
// same run: a real controlplane process holding 1,000 workloads, 100 nodes that
// joined with their own tokens and hold delta-xDS streams on their node
// certificates over the real TLS endpoint, one change at a time pushed to all of
// them; its RSS per stream; and its CA against raw ECDSA signing.
//
// `AMBIT_BENCH_CP_PROFILE=<dir>` also writes a CPU profile of the controlplane there.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Http2Client, type Http2ClientTls } from "../runtime/mod.ts";
import { startTestControlplane, type TestControlplane } from "../testing/controlplane.ts";
import { DeltaXdsClient } from "../xds/client.ts";
import { ALL_TYPE_URLS, type DeltaAck, TYPE_URLS } from "../xds/protocol.ts";
import type { StreamStatus } from "../xds/server.ts";
import { ControlplaneSession } from "../ztunnel/controlplane_session.ts";
import { makeCsrs, measureCa } from "./_xds_ca.ts";
import { APPS, meshYaml, NAMESPACE, podApp, podUid, podYaml } from "./_xds_mesh.ts";
import { percentile, markdownTable, RESULT_COLUMNS } from "./_measure.ts";

const PODS = 1000;
const NODES = 100;
const WARM_UP_CHANGES = 1;
/** AMBIT_BENCH_XDS_CHANGES raises it, e.g. to profile the push path. */
const CHANGES = Number(process.env.AMBIT_BENCH_XDS_CHANGES ?? 10);
/** The pod relabelled by change `k`: a different node and app each time. */
const changedPod = (k: number) => (501 + 207 * k) % PODS;
const DEBOUNCE_MS = 100; // xds/server.ts's default, which the controlplane uses
const JOIN_CONCURRENCY = 10;
const CA_ROUNDS = 9;
const CA_PER_ROUND = 50;
const RAW_PER_ROUND = 300;
const CA_CONCURRENT = 150;
const HTTP_CSRS = 240;
const HTTP_IN_FLIGHT = 8;
const TRUST_DOMAIN = "cluster.local";

/** Runs the benchmark and returns its section of bench/RESULTS.md. */
export async function bench(): Promise<string> {
  const loadBefore = os.loadavg()[0]!;

  // The CA in this process, while nothing else of the benchmark runs.
  const ca = await measureCa({ rounds: CA_ROUNDS, perRound: CA_PER_ROUND, rawPerRound: RAW_PER_ROUND, concurrent: CA_CONCURRENT, inFlight: HTTP_IN_FLIGHT });
  // node-0 runs pods 0, 100, … (all app-0): CSRs it may have signed.
  const httpCsrs = await makeCsrs(HTTP_CSRS + HTTP_IN_FLIGHT, TRUST_DOMAIN, NAMESPACE, () => podApp(0));

  const cp = await startControlplane();
  const pid = cp.proc.child.pid!;
  const restoreJson = instrumentAcks();
  const clients: DeltaXdsClient[] = [];
  try {
    const adminToken = fs.readFileSync(path.join(cp.stateDir, "admin-token"), "utf8").trim();
    const asAdmin = { authorization: `Bearer ${adminToken}` };
    const proxyStatus = async () =>
      (await cp.admin.json<{ proxies: StreamStatus[] }>("GET", "/api/v1/proxy-status", undefined, asAdmin)).proxies.filter((p) => p.connected && p.node.id.startsWith("bench-"));

    // 1,000 workloads in one apply.
    let t = performance.now();
    const applied = await cp.apply(meshYaml(PODS, NODES), "bench-mesh.yaml");
    if (applied.status !== 200) throw new Error(`mesh apply refused: ${applied.status} ${JSON.stringify(applied.body).slice(0, 500)}`);
    const meshApplyMs = performance.now() - t;
    const dataplane = await cp.admin.json<{ workloads: unknown[]; services: unknown[] }>("GET", "/api/v1/dataplane", undefined, asAdmin);
    if (dataplane.workloads.length !== PODS || dataplane.services.length < APPS) {
      throw new Error(`controlplane translated ${dataplane.workloads.length} workloads and ${dataplane.services.length} services, expected ${PODS} and ${APPS}`);
    }

    // Every node joins with its own token and gets its node certificate.
    const caPem = fs.readFileSync(cp.rootCertFile, "utf8");
    const nodeNames = Array.from({ length: NODES }, (_, i) => `node-${i}`);
    t = performance.now();
    const tls = await mapLimit(nodeNames, JOIN_CONCURRENCY, async (node): Promise<Http2ClientTls> => {
      const session = new ControlplaneSession({ url: cp.url, node, trustDomain: TRUST_DOMAIN, caPem, joinToken: await cp.token(node) }, 3600);
      await session.join();
      session.close();
      return session.tls!;
    });
    const joinMs = performance.now() - t;

    const before = await memoryAfterGc(cp);

    // 100 streams, each on its own HTTP/2 connection with its node's certificate.
    let watch: Watch | undefined;
    const streamIndex = new Map<string, number>();
    const problems: string[] = [];
    ackHook = (ack, phase) => {
      const w = watch;
      const i = streamIndex.get(ack.streamId);
      if (!w || i === undefined || ack.typeUrl !== TYPE_URLS.workload || w.applied[i] === undefined) return;
      if (phase === "sent") w.ackSent[i] ??= performance.now();
      else if (w.ackSent[i] !== undefined && w.acked[i] === undefined) {
        w.acked[i] = performance.now();
        if (++w.ackedCount === NODES) w.done();
      }
    };
    for (const [i, node] of nodeNames.entries()) {
      clients.push(new DeltaXdsClient({
        url: cp.url,
        tls: tls[i],
        node: { id: `bench-${node}`, nodeName: node },
        types: ALL_TYPE_URLS,
        apply: (typeUrl, resources) => {
          const w = watch;
          if (w && typeUrl === TYPE_URLS.workload && w.applied[i] === undefined && resources.some((r) => r.name === w.uid)) {
            w.applied[i] = performance.now();
            w.cpCpuAtFirst ??= cpuMs(pid);
          }
          return { failed: [] };
        },
        onEvent: (event, fields) => {
          if (event !== "stream opened") problems.push(`${node}: ${event} ${JSON.stringify(fields)}`);
        },
      }));
    }
    t = performance.now();
    const runs = clients.map((c) => c.run());
    await until("the initial sync of every client", 90_000, async () => clients.every((c) => c.synced))
      .catch((e: Error) => {
        throw new Error(`${e.message}: ${clients.filter((c) => c.synced).length} of ${NODES} synced; first problems: ${problems.slice(0, 5).join("; ") || "none"}`);
      });
    const syncMs = performance.now() - t;
    await until("every stream to ACK its initial responses", 30_000, async () => {
      const s = await proxyStatus();
      return s.length === NODES && s.every((p) => p.types.length === ALL_TYPE_URLS.length && p.types.every((x) => x.pendingNonces === 0 && x.lastAckedNonce === x.lastSentNonce));
    });
    const syncAckedMs = performance.now() - t;
    const initialWorkloads = clients[0]!.versions(TYPE_URLS.workload).size;
    if (initialWorkloads !== PODS) throw new Error(`client 0 holds ${initialWorkloads} workloads, expected ${PODS}`);
    for (const [i, c] of clients.entries()) {
      streamIndex.set(c.received[0]!.streamId, i);
      c.received.length = 0; // the initial snapshot: 100 copies are not worth keeping
    }
    const rssSyncedNoGc = rssBytes(pid);
    const synced = await memoryAfterGc(cp);

    // One change at a time: from the apply request leaving until each client has applied it and its ACK was answered.
    const ackSentMs: number[] = [];
    const ackedMs: number[] = [];
    const changes: { answeredMs: number; firstMs: number; lastAckMs: number; confirmedMs: number; cpCpuMs: number; cpCpuToFirstMs: number; benchCpuMs: number }[] = [];
    for (let k = 0; k < WARM_UP_CHANGES + CHANGES; k++) {
      const pod = changedPod(k);
      let done!: () => void;
      const allAcked = new Promise<void>((r) => (done = r));
      const w: Watch = { uid: podUid(pod), applied: new Array(NODES), ackSent: new Array(NODES), acked: new Array(NODES), ackedCount: 0, done };
      watch = w;
      const cpCpu0 = cpuMs(pid);
      const benchCpu0 = process.cpuUsage();
      const t0 = performance.now();
      const res = await cp.apply(podYaml(pod, NODES, `v${k + 2}`), "bench-change.yaml");
      const answered = performance.now();
      if (res.status !== 200 || res.body?.changes?.[0]?.verb !== "configured") throw new Error(`change ${k} not applied: ${res.status} ${JSON.stringify(res.body)}`);
      await withTimeout(allAcked, 15_000, () => `change ${k}: only ${w.ackedCount} of ${NODES} clients applied and ACKed within 15 s`);
      watch = undefined;
      const cpCpuMs = cpuMs(pid) - cpCpu0;
      const benchCpu = process.cpuUsage(benchCpu0);
      // The controlplane's own view: every stream's Workload type ACKed at the new systemVersionInfo.
      const version = clients[0]!.received.at(-1)!.systemVersionInfo;
      await until(`proxy-status to show change ${k} ACKed everywhere`, 10_000, async () => {
        const s = await proxyStatus();
        return s.length === NODES && s.every((p) => p.types.find((x) => x.typeUrl === TYPE_URLS.workload)?.lastAckedVersion === version);
      });
      const confirmed = performance.now();
      for (const c of clients) {
        const got = c.received.filter((r) => r.resources.length + r.removedResources.length > 0);
        if (got.length !== 1 || got[0]!.typeUrl !== TYPE_URLS.workload || got[0]!.resources.length !== 1) {
          throw new Error(`change ${k}: a client received ${JSON.stringify(got.map((r) => ({ type: r.typeUrl, resources: r.resources.map((x) => x.name), removed: r.removedResources })))}, expected the one Workload`);
        }
        c.received.length = 0;
      }
      if (k >= WARM_UP_CHANGES) {
        const applied = w.applied.map((x) => x! - t0);
        const acked = w.acked.map((x) => x! - t0);
        ackSentMs.push(...w.ackSent.map((x) => x! - t0));
        ackedMs.push(...acked);
        changes.push({
          answeredMs: answered - t0,
          firstMs: Math.min(...applied),
          lastAckMs: Math.max(...acked),
          confirmedMs: confirmed - t0,
          cpCpuMs,
          cpCpuToFirstMs: w.cpCpuAtFirst! - cpCpu0,
          benchCpuMs: (benchCpu.user + benchCpu.system) / 1000,
        });
      }
      await sleep(300);
    }
    const afterChanges = await memoryAfterGc(cp);
    const reconnects = clients.reduce((n, c) => n + c.stats().streams - 1, 0);
    const nacks = clients.reduce((n, c) => n + c.stats().nacks, 0);
    for (const c of clients) c.stop();
    await Promise.race([Promise.all(runs), sleep(5000)]);

    // CSRs through the real endpoint, as node-0 (which runs app-0 workloads).
    const node0 = new Http2Client(cp.url, tls[0]);
    const issue = (csr: string) => node0.json<{ certChain: string[] }>("POST", "/ca/v1/certificates", { csr, validitySeconds: 3600 });
    await Promise.all(httpCsrs.slice(0, HTTP_IN_FLIGHT).map(issue)); // warm-up
    t = performance.now();
    await mapLimit(httpCsrs.slice(HTTP_IN_FLIGHT), HTTP_IN_FLIGHT, issue);
    const httpRate = HTTP_CSRS / ((performance.now() - t) / 1000);
    node0.close();
    const loadAfter = os.loadavg()[0]!;

    // The table.
    const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;
    const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
    const signed = (bytes: number) => `${bytes < 0 ? "−" : "+"}${mib(Math.abs(bytes))}`;
    const p = (xs: number[], q: number) => percentile(xs, q);
    const sentP50 = p(ackSentMs, 50);
    const sentP99 = p(ackSentMs, 99);
    const perClient = (synced.rss - before.rss) / NODES;
    const heapPerClient = (synced.heap - before.heap) / NODES;
    const caRatio = ca.ratio;
    const met = (ok: boolean) => (ok ? "yes" : "**missed**");
    const median = (xs: number[]) => p(xs, 50);
    const rows = [
      [`one change → client applied it and sent its ACK, p50 over ${NODES} clients × ${CHANGES} changes`, `${sentP50.toFixed(0)} ms`, `debounce ${DEBOUNCE_MS} ms`, `${(sentP50 / DEBOUNCE_MS).toFixed(2)}×`, "", ""],
      [`one change → client applied it and sent its ACK, p99 (${ackSentMs.length} samples)`, `${sentP99.toFixed(0)} ms`, `debounce ${DEBOUNCE_MS} ms`, `${(sentP99 / DEBOUNCE_MS).toFixed(2)}×`, "≤ 250 ms", met(sentP99 <= 250)],
      [`one change → the controlplane answered that ACK, p50 / p99`, `${p(ackedMs, 50).toFixed(0)} / ${p(ackedMs, 99).toFixed(0)} ms`, "", "", "", ""],
      [`one change, medians over the changes: apply answered / first client applied / last client ACKed / proxy-status shows all ${NODES} ACKed`,
        `${median(changes.map((c) => c.answeredMs)).toFixed(0)} / ${median(changes.map((c) => c.firstMs)).toFixed(0)} / ${median(changes.map((c) => c.lastAckMs)).toFixed(0)} / ${median(changes.map((c) => c.confirmedMs)).toFixed(0)} ms`,
        "", "", "", ""],
      [`initial sync of ${NODES} clients (${PODS} workloads each): all synced / all ACKed per proxy-status`, `${(syncMs / 1000).toFixed(2)} s / ${(syncAckedMs / 1000).toFixed(2)} s`, "", "", "", ""],
      [`controlplane after a full GC, ${PODS} workloads: no streams → ${NODES} streams synced`, `RSS ${mib(before.rss)} → ${mib(synced.rss)} (${mib(rssSyncedNoGc)} before that GC); JS heap ${mib(before.heap)} → ${mib(synced.heap)}`, "", "", "", ""],
      [`controlplane RSS per connected client`, `${kb(perClient)} (${Math.round(perClient).toLocaleString("en-US")} bytes)`, "", "", "≤ 100 KB", met(perClient <= 100_000)],
      [`controlplane JS heap per connected client`, kb(heapPerClient), "", "", "", ""],
      [`controlplane growth over the ${WARM_UP_CHANGES + CHANGES} changes (after a full GC; not per client)`, `RSS ${signed(afterChanges.rss - synced.rss)}, JS heap ${signed(afterChanges.heap - synced.heap)}`, "", "", "", ""],
      [`CPU per change, apply request → last ACK answered, medians: controlplane (until the first client has it + the rest) / bench process (${NODES} clients)`,
        `${median(changes.map((c) => c.cpCpuMs)).toFixed(0)} ms (${median(changes.map((c) => c.cpCpuToFirstMs)).toFixed(0)} + ${median(changes.map((c) => c.cpCpuMs - c.cpCpuToFirstMs)).toFixed(0)}) / ${median(changes.map((c) => c.benchCpuMs)).toFixed(0)} ms`, "", "", "", ""],
      [`CA signatures per second, in process (\`CertificateAuthority.sign\`: CSR check + sign + PEM)`, `${ca.caRate.toFixed(0)}/s`, `raw Web Crypto ECDSA P-256 SHA-256, ${ca.tbsBytes}-byte payload ${ca.rawRate.toFixed(0)}/s`, `${caRatio.toFixed(2)}×`, "≥ 0.5×", met(caRatio >= 0.5)],
      [`CA signatures per second, in process, ${ca.inFlight} at once`, `${ca.caConcurrentRate.toFixed(0)}/s`, "", "", "", ""],
      [`CSRs per second through \`POST /ca/v1/certificates\` (node-0, ${HTTP_IN_FLIGHT} in flight, TLS)`, `${httpRate.toFixed(0)}/s`, `in-process CA, ${ca.inFlight} at once, ${ca.caConcurrentRate.toFixed(0)}/s`, `${(httpRate / ca.caConcurrentRate).toFixed(2)}×`, "", ""],
    ];
    return [
      "## Delta xDS and the CA (`bench/xds.ts`)",
      "",
      `A controlplane process (\`controlplane/main.ts\`, default 100 ms push debounce) holding ${PODS} Pods in an ambient namespace, spread over`,
      `${NODES} nodes with distinct 10.x pod IPs, ${APPS} Services selecting them (one ${(meshApplyMs / 1000).toFixed(1)} s apply of one multi-document YAML). ${NODES} nodes join`,
      `with their own join tokens (${(joinMs / 1000).toFixed(1)} s) and each opens a \`DeltaXdsClient\` on its node certificate: ${NODES} HTTP/2 connections over TLS 1.3`,
      `to the real endpoint, all subscribed to every type, all in the bench process. Then ${CHANGES} changes (after ${WARM_UP_CHANGES} warm-up), one at a time:`,
      "one Pod relabelled (`version`), so its Workload changes. Per client and change, the time from sending the apply request until the client",
      "has applied the delta and handed its ACK (`POST /xds/v1/delta/ack`) to its connection, and until the controlplane's answer to that ACK arrived",
      "(both timed in the bench process by wrapping `Http2Client.json` there; the clients' `apply` only records the time);",
      `every change was also confirmed in \`GET /api/v1/proxy-status\` (all ${NODES} streams' Workload \`lastAckedVersion\` at the new systemVersionInfo), and each`,
      `client was checked to have received exactly that one Workload. Reconnects during the run: ${reconnects}; NACKs: ${nacks}${problems.length ? `; client events: ${problems.slice(0, 3).join("; ")}` : ""}.`,
      "Memory is the controlplane's VmRSS and JS heap (`bun:jsc` heapStats) after the joins and before the streams, and after they synced, each",
      "read after two full GCs (`Bun.gc(true)`, run on SIGUSR2 by bench/_xds_cp_preload.ts, preloaded into the controlplane) and 1 s for the",
      "allocator to return pages (1 KB = 1,000 bytes). CPU is /proc utime + stime of the controlplane and the bench process's own.",
      `CA: ${ca.csrs} pre-made CSRs signed once each in process, one at a time, in ${ca.rounds} rounds of ${CA_PER_ROUND}, each followed by ${RAW_PER_ROUND} raw signatures (one at a time) of a payload`,
      `the size of the certificates' TBSCertificate; rates are medians over the rounds, the ratio is the median of the rounds' ratios. Then ${CA_CONCURRENT} more with`,
      `${HTTP_IN_FLIGHT} sign() calls outstanding. The endpoint row posts ${HTTP_CSRS} pre-made CSRs (${HTTP_IN_FLIGHT} in flight) as node-0 for an identity it runs.`,
      `Ratios: latency ÷ the debounce (lower is better); CA ÷ raw signing (higher is better). 1-minute load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after, on ${os.cpus().length} CPUs.`,
      "",
      ...markdownTable(RESULT_COLUMNS, rows),
      "",
    ].join("\n");
  } finally {
    ackHook = undefined;
    restoreJson();
    for (const c of clients) c.stop();
    await cp.kill(process.env.AMBIT_BENCH_CP_PROFILE ? "SIGTERM" : "SIGKILL");
    fs.rmSync(cp.stateDir, { recursive: true, force: true });
  }
}

interface Watch {
  readonly uid: string;
  readonly applied: (number | undefined)[];
  /** When the client handed its ACK to its HTTP/2 connection… */
  readonly ackSent: (number | undefined)[];
  /** …and when the controlplane's answer to it arrived. */
  readonly acked: (number | undefined)[];
  ackedCount: number;
  /** The controlplane's CPU time when the first client had the change. */
  cpCpuAtFirst?: number;
  readonly done: () => void;
}

/**
 * Starts the controlplane with bench/_xds_cp_preload.ts preloaded (a full GC on SIGUSR2), and with
 * Bun's CPU profiler when AMBIT_BENCH_CP_PROFILE names a directory.
 */
async function startControlplane(): Promise<TestControlplane> {
  const options = [`--preload=${path.join(import.meta.dirname, "_xds_cp_preload.ts")}`];
  const dir = process.env.AMBIT_BENCH_CP_PROFILE;
  if (dir) {
    fs.mkdirSync(dir, { recursive: true });
    options.push("--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${path.resolve(dir)}`);
  }
  const saved = process.env.BUN_OPTIONS;
  process.env.BUN_OPTIONS = [saved, ...options].filter(Boolean).join(" ");
  // 100 nodes from one loopback address: past the per-peer default of 64 (docs/controlplane.md).
  const starting = startTestControlplane(["--max-connections-per-peer", String(2 * NODES)]); // spawns synchronously, before its first await
  if (saved === undefined) delete process.env.BUN_OPTIONS;
  else process.env.BUN_OPTIONS = saved;
  return starting;
}

/** The controlplane's VmRSS and JS heap after two full GCs and a moment for the allocator to return pages. */
async function memoryAfterGc(cp: TestControlplane): Promise<{ rss: number; heap: number }> {
  const pid = cp.proc.child.pid!;
  const seen = cp.proc.lines.length;
  for (let i = 0; i < 2; i++) {
    process.kill(pid, "SIGUSR2");
    await sleep(500);
  }
  await sleep(1000);
  const reports = cp.proc.lines.slice(seen).map((l) => /^bench-gc\theap=(\d+)/.exec(l)?.[1]).filter((x) => x !== undefined);
  if (reports.length === 0) throw new Error("the controlplane did not report its heap after SIGUSR2 (is bench/_xds_cp_preload.ts preloaded?)");
  return { rss: rssBytes(pid), heap: Number(reports.at(-1)) };
}

let ackHook: ((ack: DeltaAck, phase: "sent" | "answered") => void) | undefined;

/**
 * DeltaXdsClient posts each ACK with `Http2Client.json` and awaits the answer; wrapping that
 * method (in this process only) tells the benchmark when each client's ACK left and when it was answered.
 */
function instrumentAcks(): () => void {
  const proto = Http2Client.prototype as unknown as { json: (...args: unknown[]) => Promise<unknown> };
  const original = proto.json;
  proto.json = async function (this: Http2Client, ...args: unknown[]) {
    const isAck = args[1] === "/xds/v1/delta/ack";
    if (isAck) ackHook?.(args[2] as DeltaAck, "sent"); // the request is issued synchronously inside json()
    const result = await original.apply(this, args);
    if (isAck) ackHook?.(args[2] as DeltaAck, "answered");
    return result;
  };
  return () => void (proto.json = original);
}

/** User + system CPU time of a process so far (10 ms ticks). */
function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "").split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  }));
  return out;
}

async function until(what: string, timeoutMs: number, f: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await f().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message())), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

if (import.meta.main) console.log(await bench());
