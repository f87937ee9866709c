// The whole L4 path, each figure beside its reference measured in the same run:
// client → SOCKS5 on ztunnel A (workload on node-a) → HBONE → ztunnel B → sink
// workload on node-b, against direct TCP to the same sink and against a stunnel
// mTLS pair (TLS 1.3, client certificate required and verified) in front of it.
import { cpuSeconds, pushChecked } from "./_proc.ts";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { issue, testCa, writeCertFiles } from "../testing/pki.ts";
import { loopbackAddress } from "../testing/loopback.ts";
import { startMesh, workload } from "../testing/mesh.ts";
import { socksConnect } from "../testing/socks.ts";
import { ensureStunnel, startStunnelPair } from "./_l4_stunnel.ts";
import { mibps, percentile, pingPong, markdownTable, RESULT_COLUMNS } from "./_measure.ts";

const SINK_PORT = 9000;
const ECHO_PORT = 9001;
const SOCKS_PORT = 15080;
const ONE_CONN_BYTES = 256 * 1024 * 1024;
const WARM_UP = 300;
const ROUND_TRIPS = 3000;
const OPENS = 600;
const HELD = 1000;
const HELD_BATCH = 100;
const ROUNDS = 3;

/** Runs the benchmark and returns its section of bench/RESULTS.md. */
export async function bench(): Promise<string> {
  const openFiles = softOpenFileLimit();
  if (openFiles < 2 * HELD + 256) throw new Error(`open-file limit ${openFiles} is too low for ${HELD} connections; raise it (ulimit -n 4096)`);
  const stunnelBinary = ensureStunnel();

  const ip = { client: loopbackAddress(), sink: loopbackAddress(), stunnelClient: loopbackAddress(), stunnelServer: loopbackAddress() };
  const stops: (() => Promise<void> | void)[] = [];
  try {
    // The sink workload's servers, in their own process.
    const servers = spawn(process.execPath, [path.join(import.meta.dirname, "_l4_servers.ts"), ip.sink, String(SINK_PORT), String(ECHO_PORT)], { stdio: ["ignore", "pipe", "inherit"] });
    stops.push(() => void servers.kill("SIGKILL"));
    await new Promise<void>((resolve, reject) => {
      servers.stdout!.once("data", () => resolve());
      servers.once("exit", (code) => reject(new Error(`bench/_l4_servers.ts exited (${code})`)));
    });

    // Two ztunnels: the client workload on node-a, the sink workload on node-b.
    const mesh = await startMesh(["node-a", "node-b"], {
      workloads: [workload({ name: "client", ip: ip.client, node: "node-a" }), workload({ name: "sink", ip: ip.sink, node: "node-b" })],
      services: [],
    });
    stops.push(() => mesh.stop());
    const zA = mesh.nodes["node-a"]!;
    const zB = mesh.nodes["node-b"]!;

    // The stunnel pair, with certificates from the project's own CA helpers.
    const ca = await testCa();
    const stunnel = await startStunnelPair({
      binary: stunnelBinary,
      clientAddress: ip.stunnelClient,
      serverAddress: ip.stunnelServer,
      routes: [
        { name: "sink", port: SINK_PORT, target: { address: ip.sink, port: SINK_PORT } },
        { name: "echo", port: ECHO_PORT, target: { address: ip.sink, port: ECHO_PORT } },
      ],
      clientCert: writeCertFiles(await issue(ca, "bench", "stunnel-client")),
      serverCert: writeCertFiles(await issue(ca, "bench", "stunnel-server")),
    });
    stops.push(() => stunnel.stop());

    const open = {
      direct: (port: number) => tcpConnect(ip.sink, port),
      stunnel: (port: number) => tcpConnect(ip.stunnelClient, port),
      ambit: async (port: number) => {
        const r = await socksConnect({ address: ip.client, port: SOCKS_PORT }, ip.sink, port);
        if (!r.ok) throw new Error(`SOCKS CONNECT to ${ip.sink}:${port} via ${ip.client}:${SOCKS_PORT} refused: ${r.reply}`);
        return r.socket;
      },
    };
    type Path = keyof typeof open;

    // Other work on the machine shifts every figure, so the paths take turns: ROUNDS rounds, each path once per round.
    const PATHS = ["ambit", "direct", "stunnel"] as const;
    const loadBefore = os.loadavg()[0]!;

    // Connection opens (the warm-up also warms the pool, the TLS session cache and the JIT).
    const opens = {} as Record<Path, { open: number[]; firstEcho: number[] }>;
    for (const p of PATHS) {
      await openTimes(() => open[p](ECHO_PORT), 100);
      opens[p] = { open: [], firstEcho: [] };
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const p of PATHS) {
        const t = await openTimes(() => open[p](ECHO_PORT), OPENS / ROUNDS);
        opens[p].open.push(...t.open);
        opens[p].firstEcho.push(...t.firstEcho);
      }
    }

    // 1-byte round trips on one open connection per path.
    const echoes = {} as Record<Path, net.Socket>;
    const rtt = {} as Record<Path, number[]>;
    for (const p of PATHS) {
      echoes[p] = await open[p](ECHO_PORT);
      await pingPong(echoes[p], WARM_UP);
      echoes[p].removeAllListeners("data");
      rtt[p] = [];
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const p of PATHS) {
        rtt[p].push(...(await pingPong(echoes[p], ROUND_TRIPS / ROUNDS)));
        echoes[p].removeAllListeners("data");
      }
    }
    for (const p of PATHS) await closeGracefully(echoes[p]);

    // RSS of both ztunnels idle, then with HELD connections open through the whole path.
    await sleep(1000);
    const idle = [rssBytes(zA.proc.child.pid!), rssBytes(zB.proc.child.pid!)] as const;
    const held: net.Socket[] = [];
    for (let i = 0; i < HELD; i += HELD_BATCH) {
      held.push(...(await Promise.all(Array.from({ length: Math.min(HELD_BATCH, HELD - i) }, async () => {
        const s = await open.ambit(ECHO_PORT);
        await pingPong(s, 1); // established end to end, sink included
        s.removeAllListeners("data");
        return s;
      }))));
    }
    await sleep(1000);
    const loaded = [rssBytes(zA.proc.child.pid!), rssBytes(zB.proc.child.pid!)] as const;
    const pool = (await (await zA.admin("/debug/pool")).json()) as { openConnections?: number; activeStreams?: number };
    await Promise.all(held.map(closeGracefully));
    const perConnection = (loaded[0] - idle[0] + loaded[1] - idle[1]) / HELD;

    // Throughput of one connection: push, FIN, wait for the sink's byte count; best of ROUNDS.
    // Alongside, the CPU time the proxies themselves spend (user + system), which other load on the machine disturbs less than wall time.
    const proxyPids: Record<Path, number[]> = { ambit: [zA.proc.child.pid!, zB.proc.child.pid!], stunnel: stunnel.procs.map((p) => p.child.pid!), direct: [] };
    const proxyCpu = { ambit: [0, 0], stunnel: [0, 0], direct: [] as number[] } as Record<Path, number[]>;
    const tput = {} as Record<Path, number>;
    for (let round = 0; round < ROUNDS; round++) {
      for (const p of PATHS) {
        const cpu0 = proxyPids[p].map(cpuSeconds);
        const seconds = await pushChecked(await open[p](SINK_PORT), ONE_CONN_BYTES);
        proxyPids[p].forEach((pid, i) => (proxyCpu[p][i]! += cpuSeconds(pid) - cpu0[i]!));
        tput[p] = Math.min(tput[p] ?? Infinity, seconds);
      }
    }
    const gib = (ROUNDS * ONE_CONN_BYTES) / 2 ** 30;
    const cpuPerGib = (p: Path) => proxyCpu[p].reduce((a, b) => a + b, 0) / gib;
    const loadAfter = os.loadavg()[0]!;

    // The table.
    const us = (v: number) => `${v.toFixed(0)} µs`;
    const signedUs = (v: number) => `${v >= 0 ? "+" : "−"}${Math.abs(v).toFixed(0)} µs`;
    const met = (ok: boolean) => (ok ? "yes" : "**missed**");
    const mb = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
    const p = (xs: number[], q: number) => percentile(xs, q);
    const added = (path: Path, q: number) => p(rtt[path], q) - p(rtt.direct, q);
    // tput holds seconds for the same byte count, so reference seconds ÷ Ambit seconds = Ambit rate ÷ reference rate.
    const tcpRatio = tput.direct / tput.ambit;
    const tlsRatio = tput.stunnel / tput.ambit;
    const x = (v: number) => `${v.toFixed(2)}×`;
    const rows: string[][] = [
      [`1-connection throughput (${ONE_CONN_BYTES / 1048576} MiB, best of ${ROUNDS})`, `${mibps(ONE_CONN_BYTES, tput.ambit)} MiB/s`, `direct TCP ${mibps(ONE_CONN_BYTES, tput.direct)} MiB/s`, x(tcpRatio), "≥ 0.25×", met(tcpRatio >= 0.25)],
      [`1-connection throughput (${ONE_CONN_BYTES / 1048576} MiB, best of ${ROUNDS})`, `${mibps(ONE_CONN_BYTES, tput.ambit)} MiB/s`, `stunnel mTLS ${mibps(ONE_CONN_BYTES, tput.stunnel)} MiB/s`, x(tlsRatio), "≥ 0.4×", met(tlsRatio >= 0.4)],
      ["proxy CPU per GiB carried (user + system, both ends)", `${cpuPerGib("ambit").toFixed(1)} s (ztunnel A ${(proxyCpu.ambit[0]! / gib).toFixed(1)} + B ${(proxyCpu.ambit[1]! / gib).toFixed(1)})`, `stunnel ${cpuPerGib("stunnel").toFixed(1)} s (server + client)`, x(cpuPerGib("ambit") / cpuPerGib("stunnel")), "", ""],
      ["added latency, 1-byte round trip p50", `${signedUs(added("ambit", 50))} (${us(p(rtt.ambit, 50))} in all)`, `stunnel ${signedUs(added("stunnel", 50))} (${us(p(rtt.stunnel, 50))}); direct TCP ${us(p(rtt.direct, 50))}`, x(added("ambit", 50) / added("stunnel", 50)), "≤ 60 µs", met(added("ambit", 50) <= 60)],
      ["added latency, 1-byte round trip p99", `${signedUs(added("ambit", 99))} (${us(p(rtt.ambit, 99))} in all)`, `stunnel ${signedUs(added("stunnel", 99))} (${us(p(rtt.stunnel, 99))}); direct TCP ${us(p(rtt.direct, 99))}`, x(added("ambit", 99) / added("stunnel", 99)), "", ""],
      ["open a connection through the warm pool, p50 (SOCKS5 + HBONE CONNECT)", us(p(opens.ambit.open, 50)), `direct TCP connect ${us(p(opens.direct.open, 50))}`, x(p(opens.ambit.open, 50) / p(opens.direct.open, 50)), "", ""],
      ["open a connection through the warm pool, p99", us(p(opens.ambit.open, 99)), `direct TCP connect ${us(p(opens.direct.open, 99))}`, x(p(opens.ambit.open, 99) / p(opens.direct.open, 99)), "", ""],
      ["new connection to first echoed byte, p50", us(p(opens.ambit.firstEcho, 50)), `stunnel (a TLS handshake per connection) ${us(p(opens.stunnel.firstEcho, 50))}; direct TCP ${us(p(opens.direct.firstEcho, 50))}`, x(p(opens.ambit.firstEcho, 50) / p(opens.stunnel.firstEcho, 50)), "", ""],
      ["ztunnel RSS idle (node-a + node-b)", `${mb(idle[0])} + ${mb(idle[1])}`, "", "", "", ""],
      [`ztunnel RSS with ${HELD.toLocaleString("en")} open connections (node-a + node-b)`, `${mb(loaded[0])} + ${mb(loaded[1])}`, `${pool.openConnections ?? "?"} HBONE connections carry them`, "", "", ""],
      ["RSS per open connection, both ztunnels", `${(perConnection / 1000).toFixed(1)} KB (${Math.round(perConnection).toLocaleString("en")} bytes)`, "", "", "≤ 16 KB", met(perConnection <= 16_000)],
    ];
    return [
      "## L4 path (`bench/l4.ts`)",
      "",
      "Client in the bench process → SOCKS5 on ztunnel A (client workload on node-a) → HBONE (HTTP/2 CONNECT over mTLS) → ztunnel B → sink and echo",
      "servers of a node-b workload in a third process; references are direct TCP to the same servers and a stunnel client/server pair in front",
      "of them (TLS 1.3 with HBONE's cipher suites, client certificate required and verified, P-256 SPIFFE certificates from the project's test CA).",
      "Everything on loopback on one machine, in one run.",
      `Throughput: ${ONE_CONN_BYTES / 1048576} MiB pushed on one connection, the sink answers its byte count on FIN, best of ${ROUNDS}. Latency: ${ROUND_TRIPS} sequential 1-byte`,
      `echoes on one open connection after ${WARM_UP} of warm-up; "added" is the path's percentile minus direct TCP's. Opens: ${OPENS} sequential, after 100 of warm-up.`,
      `RSS: VmRSS of both ztunnel processes idle and with ${HELD.toLocaleString("en")} connections open end to end; per connection = summed growth ÷ ${HELD.toLocaleString("en")} (1 KB = 1,000 bytes).`,
      `The paths take turns (${ROUNDS} rounds, each path once per round) so background load falls on all of them alike; 1-minute load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after, on ${os.cpus().length} CPUs.`,
      "Ratios are Ambit ÷ reference (higher is better for throughput, lower for latency, time and CPU). Targets are printed, not enforced.",
      "",
      ...markdownTable(RESULT_COLUMNS, rows),
      "",
    ].join("\n");
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

function tcpConnect(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, noDelay: true, allowHalfOpen: true });
    s.once("connect", () => (s.off("error", reject), resolve(s)));
    s.once("error", reject);
  });
}

/** Opens `n` connections one after another; for each, the time to open it and to open it and get a first byte echoed. µs. */
async function openTimes(open: () => Promise<net.Socket>, n: number): Promise<{ open: number[]; firstEcho: number[] }> {
  const out = { open: [] as number[], firstEcho: [] as number[] };
  const one = Buffer.from([1]);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const s = await open();
    const t1 = performance.now();
    await new Promise<void>((resolve) => {
      s.once("data", () => resolve());
      s.write(one);
    });
    const t2 = performance.now();
    out.open.push((t1 - t0) * 1000);
    out.firstEcho.push((t2 - t0) * 1000);
    await closeGracefully(s);
  }
  return out;
}

/** FIN, then wait for the far side's FIN and the close (outside any timed region). */
function closeGracefully(s: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve();
    s.once("close", () => resolve());
    s.on("error", () => {});
    s.resume();
    s.end();
  });
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

function softOpenFileLimit(): number {
  const m = /Max open files\s+(\d+|unlimited)/.exec(fs.readFileSync("/proc/self/limits", "utf8"));
  return !m || m[1] === "unlimited" ? Infinity : Number(m[1]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (import.meta.main) console.log(await bench());
