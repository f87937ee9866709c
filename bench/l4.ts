// The whole L4 path, each figure beside its references measured in the same run:
// client → SOCKS5 on ztunnel A (workload on node-a) → HBONE → ztunnel B → sink
// workload on node-b, against direct TCP to the same sink and against two mTLS
// tunnel pairs in front of it, stunnel and haproxy (TLS 1.3, client certificate
// required and verified). The paths are set up in bench/_l4_paths.ts.
import type * as net from "node:net";
import * as os from "node:os";
import { cpuSeconds, pushChecked } from "./_proc.ts";
import { closeGracefully, ECHO_PORT, PATHS, SINK_PORT, startL4Paths, type L4Paths, type Path } from "./_l4_paths.ts";
import { openTimes, opensPerSecond, pushParallel } from "./_l4_measure.ts";
import { HOLD_BATCH, rssWhileHolding, settledRss, softOpenFileLimit } from "./_l4_rss.ts";
import { markdownTable, mibps, percentile, pingPong, RESULT_COLUMNS } from "./_measure.ts";

const ONE_CONN_BYTES = 256 * 1024 * 1024;
const PARALLEL = 16;
const PARALLEL_BYTES = 16 * 1024 * 1024;
const WARM_UP = 300;
const ROUND_TRIPS = 9000;
const OPEN_WARM_UP = 100;
const OPENS = 600;
const OPENERS = 16;
const OPENS_EACH = 50;
/** Connection counts at which RSS is read. */
const HELD = [1000, 10_000] as const;
const ROUNDS = 3;

/** Runs the benchmark and returns its section of bench/RESULTS.md. */
export async function bench(): Promise<string> {
  const mostHeld = HELD[HELD.length - 1]!;
  const openFiles = softOpenFileLimit();
  if (openFiles < mostHeld + 256) {
    throw new Error(`open-file limit ${openFiles} is too low to hold ${mostHeld.toLocaleString("en")} connections: this process, both ztunnels and the servers each need one descriptor per connection; raise it (ulimit -n ${mostHeld + 256})`);
  }
  // A tunnel pair's process holds two descriptors per connection (one each way), so it is held only to the counts the limit allows.
  const referenceCounts = HELD.filter((c) => 2 * c + 256 <= openFiles);
  const paths = await startL4Paths();
  try {
    return section(await measure(paths, referenceCounts), openFiles);
  } finally {
    await paths.stop();
  }
}

type Figures = Awaited<ReturnType<typeof measure>>;

async function measure({ open, proxies, ztunnelA }: L4Paths, referenceCounts: readonly number[]) {
  const pidsOf = (p: Path) => proxies[p].map((x) => x.pid);
  const byPath = <T>(f: (p: Path) => T) => Object.fromEntries(PATHS.map((p) => [p, f(p)])) as Record<Path, T>;
  // Other work on the machine shifts every timing, so the paths take turns: ROUNDS rounds, each path once per round.
  const inTurns = async (f: (p: Path) => Promise<void>) => {
    for (let round = 0; round < ROUNDS; round++) for (const p of PATHS) await f(p);
  };
  const loadBefore = os.loadavg()[0]!;

  // Memory of every proxy before it has carried a connection.
  const idleAll = await settledRss(PATHS.flatMap(pidsOf));
  let next = 0;
  const idle = byPath((p) => pidsOf(p).map(() => idleAll[next++]!));

  // Sequential opens (the warm-up also warms the pool, the TLS session caches and the JIT).
  const opens = byPath(() => ({ open: [] as number[], firstEcho: [] as number[] }));
  for (const p of PATHS) await openTimes(() => open[p](ECHO_PORT), OPEN_WARM_UP);
  await inTurns(async (p) => {
    const t = await openTimes(() => open[p](ECHO_PORT), OPENS / ROUNDS);
    opens[p].open.push(...t.open);
    opens[p].firstEcho.push(...t.firstEcho);
  });

  // Opens per second with OPENERS at once; best of ROUNDS.
  const opensRate = byPath(() => 0);
  await inTurns(async (p) => void (opensRate[p] = Math.max(opensRate[p], await opensPerSecond(() => open[p](ECHO_PORT), OPENERS, OPENS_EACH))));

  // 1-byte round trips on one open connection per path.
  const rtt = byPath(() => [] as number[]);
  const echoes = new Map<Path, net.Socket>();
  try {
    for (const p of PATHS) {
      const s = await open[p](ECHO_PORT);
      echoes.set(p, s);
      await pingPong(s, WARM_UP);
      s.removeAllListeners("data");
    }
    await inTurns(async (p) => {
      rtt[p].push(...(await pingPong(echoes.get(p)!, ROUND_TRIPS / ROUNDS)));
      echoes.get(p)!.removeAllListeners("data");
    });
  } finally {
    await Promise.all([...echoes.values()].map(closeGracefully));
  }

  // RSS with connections held open end to end: Ambit at each of HELD, the tunnel pairs at referenceCounts.
  const hbone: Record<number, number | undefined> = {};
  const held = {
    ambit: await rssWhileHolding(() => open.ambit(ECHO_PORT), pidsOf("ambit"), HELD, async (n) => {
      hbone[n] = ((await (await ztunnelA.admin("/debug/pool")).json()) as { openConnections?: number }).openConnections;
    }),
    stunnel: await rssWhileHolding(() => open.stunnel(ECHO_PORT), pidsOf("stunnel"), referenceCounts),
    haproxy: await rssWhileHolding(() => open.haproxy(ECHO_PORT), pidsOf("haproxy"), referenceCounts),
  };

  // Throughput of one connection: push, FIN, wait for the sink's byte count; best of ROUNDS.
  // Alongside, the CPU time the proxies themselves spend (user + system), which other load disturbs less than wall time.
  const cpu = byPath((p) => pidsOf(p).map(() => 0));
  const oneConn = byPath(() => Infinity);
  await inTurns(async (p) => {
    const cpu0 = pidsOf(p).map(cpuSeconds);
    const seconds = await pushChecked(await open[p](SINK_PORT), ONE_CONN_BYTES);
    pidsOf(p).forEach((pid, i) => (cpu[p][i]! += cpuSeconds(pid) - cpu0[i]!));
    oneConn[p] = Math.min(oneConn[p], seconds);
  });

  // Throughput of PARALLEL connections pushing at once; best of ROUNDS.
  const parallel = byPath(() => Infinity);
  await inTurns(async (p) => void (parallel[p] = Math.min(parallel[p], await pushParallel(() => open[p](SINK_PORT), PARALLEL, PARALLEL_BYTES))));

  return { idle, opens, opensRate, rtt, held, referenceCounts, hbone, cpu, oneConn, parallel, loadBefore, loadAfter: os.loadavg()[0]! };
}

function section(f: Figures, openFiles: number): string {
  const us = (v: number) => `${v.toFixed(0)} µs`;
  const signedUs = (v: number) => `${v >= 0 ? "+" : "−"}${Math.abs(v).toFixed(0)} µs`;
  const met = (ok: boolean) => (ok ? "yes" : "**missed**");
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
  const kb = (b: number) => `${(b / 1000).toFixed(1)} KB (${Math.round(b).toLocaleString("en")} bytes)`;
  const x = (v: number) => `${v.toFixed(2)}×`;
  const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
  const n = (v: number) => v.toLocaleString("en");
  const tunnels = ["stunnel", "haproxy"] as const;
  const names = { direct: "direct TCP", stunnel: "stunnel", haproxy: "haproxy" };
  const p = (path: Path, q: number) => percentile(f.rtt[path], q);
  const added = (path: Path, q: number) => p(path, q) - p("direct", q);

  // Seconds for the same byte count, so reference seconds ÷ Ambit seconds = Ambit's rate ÷ the reference's.
  const throughput = (label: string, seconds: Record<Path, number>, bytes: number) => (["direct", ...tunnels] as const).map((ref) => {
    const r = seconds[ref] / seconds.ambit;
    const target = { direct: 0.25, stunnel: 0.4, haproxy: undefined }[ref];
    return [label, `${mibps(bytes, seconds.ambit)} MiB/s`, `${names[ref]} ${mibps(bytes, seconds[ref])} MiB/s`, x(r), target ? `≥ ${target}×` : "", target ? met(r >= target) : ""];
  });
  const roundTrip = (q: number, target?: number) => {
    const label = `1-byte round trip p${q}, added to direct TCP`;
    const ambit = `${signedUs(added("ambit", q))} (${us(p("ambit", q))} in all)`;
    return [
      [label, ambit, `direct TCP ${us(p("direct", q))}`, x(p("ambit", q) / p("direct", q)), target ? `≤ ${target} µs added` : "", target ? met(added("ambit", q) <= target) : ""],
      // A ratio of added parts means nothing once either is not above direct TCP's (it happens in the far tail, where direct TCP also stalls).
      ...tunnels.map((t) => [label, ambit, `${t} ${signedUs(added(t, q))} (${us(p(t, q))})`, added("ambit", q) > 0 && added(t, q) > 0 ? x(added("ambit", q) / added(t, q)) : "—", "", ""]),
    ];
  };
  // Held-connection figures: Ambit at each of HELD; the tunnel pairs at the counts in f.referenceCounts, or a row saying why not.
  type Held = { before: number[]; at: number[][] };
  const rssCell = (rss: readonly number[]) => rss.map(mb).join(" + ");
  const perConnection = (h: Held, i: number, count: number) => (sum(h.at[i]!) - sum(h.before)) / count;
  const heldRows = (count: number, label: string, ambit: [cell: string, value: number], ref: (h: Held, j: number) => [cell: string, value: number], target?: [string, boolean]) => {
    const j = f.referenceCounts.indexOf(count);
    const refs = j < 0
      ? [[`tunnel pairs not held at ${n(count)}: each of their processes would need over ${n(2 * count)} descriptors (limit ${n(openFiles)})`, ""]]
      : tunnels.map((t) => [`${t} ${ref(f.held[t], j)[0]}`, x(ambit[1] / ref(f.held[t], j)[1])]);
    return refs.map(([cell, r], k) => [label, ambit[0], cell!, r!, k === 0 && target ? target[0] : "", k === 0 && target ? met(target[1]) : ""]);
  };
  const rssRows = HELD.flatMap((c, i) =>
    heldRows(c, `RSS with ${n(c)} open connections (both ends)`, [`${rssCell(f.held.ambit.at[i]!)} (${f.hbone[c] ?? "?"} HBONE connections)`, sum(f.held.ambit.at[i]!)], (h, j) => [rssCell(h.at[j]!), sum(h.at[j]!)]));
  const perConnectionRows = HELD.flatMap((c, i) => {
    const ambit = perConnection(f.held.ambit, i, c);
    return heldRows(c, `RSS per open connection at ${n(c)} (growth, both ends)`, [kb(ambit), ambit], (h, j) => [kb(perConnection(h, j, c)), perConnection(h, j, c)], c === 10_000 ? ["≤ 16 KB", ambit <= 16_000] : undefined);
  });
  const gib = (ROUNDS * ONE_CONN_BYTES) / 2 ** 30;
  const cpuPerGib = (path: Path) => sum(f.cpu[path]) / gib;

  const rows: string[][] = [
    ...throughput(`1-connection throughput (${ONE_CONN_BYTES / 1048576} MiB, best of ${ROUNDS})`, f.oneConn, ONE_CONN_BYTES),
    ...throughput(`${PARALLEL}-connection throughput (${PARALLEL} × ${PARALLEL_BYTES / 1048576} MiB at once, best of ${ROUNDS})`, f.parallel, PARALLEL * PARALLEL_BYTES),
    ...tunnels.map((t) => ["proxy CPU per GiB carried on 1 connection (user + system, both ends)", `${cpuPerGib("ambit").toFixed(1)} s (ztunnel A ${(f.cpu.ambit[0]! / gib).toFixed(1)} + B ${(f.cpu.ambit[1]! / gib).toFixed(1)})`, `${t} ${cpuPerGib(t).toFixed(1)} s (client + server)`, x(cpuPerGib("ambit") / cpuPerGib(t)), "", ""]),
    ...roundTrip(50, 60),
    ...roundTrip(99, 250),
    ...roundTrip(99.9),
    ["open a connection through the warm pool, p50 (SOCKS5 + HBONE CONNECT)", us(percentile(f.opens.ambit.open, 50)), `direct TCP connect ${us(percentile(f.opens.direct.open, 50))}`, x(percentile(f.opens.ambit.open, 50) / percentile(f.opens.direct.open, 50)), "", ""],
    ["open a connection through the warm pool, p99", us(percentile(f.opens.ambit.open, 99)), `direct TCP connect ${us(percentile(f.opens.direct.open, 99))}`, x(percentile(f.opens.ambit.open, 99) / percentile(f.opens.direct.open, 99)), "", ""],
    ...tunnels.map((t) => ["new connection to first echoed byte, p50", us(percentile(f.opens.ambit.firstEcho, 50)), `${t} (a TLS handshake per connection) ${us(percentile(f.opens[t].firstEcho, 50))}; direct TCP ${us(percentile(f.opens.direct.firstEcho, 50))}`, x(percentile(f.opens.ambit.firstEcho, 50) / percentile(f.opens[t].firstEcho, 50)), "", ""]),
    ...(["direct", ...tunnels] as const).map((ref) => [`new connections per second, ${OPENERS} openers at once (open → 1-byte echo → close), best of ${ROUNDS}`, `${n(Math.round(f.opensRate.ambit))}/s`, `${names[ref]} ${n(Math.round(f.opensRate[ref]))}/s`, x(f.opensRate.ambit / f.opensRate[ref]), "", ""]),
    ...tunnels.map((t, i) => ["RSS idle, before the first connection (each process)", `ztunnel A ${mb(f.idle.ambit[0]!)}, B ${mb(f.idle.ambit[1]!)}`, `${t} client ${mb(f.idle[t][0]!)}, server ${mb(f.idle[t][1]!)}`, x(sum(f.idle.ambit) / sum(f.idle[t])), i === 0 ? "≤ 40 MB per ztunnel" : "", i === 0 ? met(f.idle.ambit.every((b) => b <= 40e6)) : ""]),
    ...rssRows,
    ...perConnectionRows,
  ];
  return [
    "## L4 path (`bench/l4.ts`)",
    "",
    "Client in the bench process → SOCKS5 on ztunnel A (client workload on node-a) → HBONE (HTTP/2 CONNECT over mTLS) → ztunnel B → sink and echo",
    "servers of a node-b workload in a third process. References, to the same servers: direct TCP, and two mTLS tunnel pairs, each a client end",
    "(plain TCP in, TLS out) and a server end (TLS in, plain TCP out): stunnel (a thread per connection) and haproxy (TCP mode, `nbthread 1` in",
    "each process, as each ztunnel runs its JavaScript on one thread). Both pairs speak TLS 1.3 with HBONE's cipher suites, require and verify",
    "the client certificate, verify the server's against the CA, and use P-256 SPIFFE certificates from the project's test CA; unlike Ambit's",
    "pool they make a TLS connection (resumed where they can) per proxied connection. Everything on loopback on one machine, in one run.",
    `Throughput: ${ONE_CONN_BYTES / 1048576} MiB pushed on one connection, and ${PARALLEL} connections pushing ${PARALLEL_BYTES / 1048576} MiB each at once (opened`,
    `beforehand, timed from the first byte to the last count); the sink answers each connection's byte count on FIN; best of ${ROUNDS}.`,
    `Round trips: ${n(ROUND_TRIPS)} sequential 1-byte echoes on one open connection per path after ${WARM_UP} of warm-up; "added" is the path's percentile`,
    `minus direct TCP's. Opens: ${OPENS} sequential (after ${OPEN_WARM_UP} of warm-up), each timed to open and to the first echoed byte; and`,
    `${OPENERS} openers at once, each opening, echoing a byte and closing (FIN both ways) ${OPENS_EACH} connections in turn, best of ${ROUNDS}.`,
    `RSS: VmRSS of each proxy process before its first connection, then just before and with connections held open end to end (a byte echoed`,
    `on each, opened ${HOLD_BATCH} at a time): ${HELD.map(n).join(" and ")} through Ambit; through each tunnel pair only the counts whose two descriptors`,
    `per connection in each process fit the open-file limit (${n(openFiles)}). Per connection = growth of both ends together ÷ connections held`,
    "(1 KB = 1,000 bytes, 1 MB = 1,000,000 bytes).",
    `The timed phases take turns (${ROUNDS} rounds, each path once per round) so background load falls on all paths alike; 1-minute load average`,
    `${f.loadBefore.toFixed(1)} before, ${f.loadAfter.toFixed(1)} after, on ${os.cpus().length} CPUs.`,
    "Ratios are Ambit ÷ reference: of rates for throughput and new connections per second (higher is better); otherwise of times, CPU and",
    "memory (lower is better): for round trips against direct TCP of whole round trips, against a tunnel pair of the part added to direct TCP",
    "(— where either added part is not above zero).",
    "Targets are printed, not enforced.",
    "",
    ...markdownTable(RESULT_COLUMNS, rows),
    "",
  ].join("\n");
}

if (import.meta.main) console.log(await bench());
