// Bun against Deno on the L4 path: client → SOCKS5 → ztunnel A → HBONE → ztunnel B
// → sink, with both ztunnels on Bun, then both on Deno, each beside direct TCP to
// the same servers measured in the same run. The servers are bench/_l4_servers.ts
// on Bun in their own process, one per mesh, so only the ztunnels change runtime.
import { cpuSeconds, pushChecked } from "./_proc.ts";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import { loopbackAddress } from "../testing/loopback.ts";
import { socksConnect } from "../testing/socks.ts";
import { RUNTIMES, type RuntimeMesh, startRuntimeMesh } from "./_runtimes_mesh.ts";
import { mibps, percentile, pingPong, markdownTable, RESULT_COLUMNS } from "./_measure.ts";

const SINK_PORT = 9000;
const ECHO_PORT = 9001;
const ONE_CONN_BYTES = 256 * 1024 * 1024;
const WARM_UP = 300;
const ROUND_TRIPS = 3000;
const ROUNDS = 3;
type Runtime = keyof typeof RUNTIMES;
const RUNTIME_NAMES: Record<Runtime, string> = { bun: "Bun", deno: "Deno" };

/** Runs the benchmark and returns its section of bench/RESULTS.md. */
export async function bench(): Promise<string> {
  const stops: (() => Promise<void> | void)[] = [];
  try {
    const meshes = {} as Record<Runtime, RuntimeMesh>;
    for (const runtime of Object.keys(RUNTIMES) as Runtime[]) {
      const mesh = { client: loopbackAddress(), sink: loopbackAddress() };
      stops.push(await startServers(mesh.sink));
      meshes[runtime] = await startRuntimeMesh(runtime, mesh.client, mesh.sink);
      stops.push(() => meshes[runtime].stop());
    }
    const runtimes = Object.keys(meshes) as Runtime[];
    const ambit = (r: Runtime) => async (port: number) => {
      const s = await socksConnect({ address: meshes[r].client, port: 15080 }, meshes[r].sink, port);
      if (!s.ok) throw new Error(`SOCKS CONNECT to ${meshes[r].sink}:${port} via the ${r} mesh refused: ${s.reply}`);
      return s.socket;
    };
    const direct = (r: Runtime) => (port: number) => tcpConnect(meshes[r].sink, port);
    // Each path in every round, so background load falls on all alike: the Bun mesh, its direct TCP, the Deno mesh, its direct TCP.
    const paths = runtimes.flatMap((r) => [{ runtime: r, via: "ambit" as const, open: ambit(r) }, { runtime: r, via: "direct" as const, open: direct(r) }]);
    const key = (p: (typeof paths)[number]) => `${p.runtime}/${p.via}`;
    const loadBefore = os.loadavg()[0]!;

    // 1-byte round trips on one open connection per path.
    const rtt = new Map<string, number[]>();
    const echoes = new Map<string, net.Socket>();
    for (const p of paths) {
      const s = await p.open(ECHO_PORT);
      await pingPong(s, WARM_UP);
      s.removeAllListeners("data");
      echoes.set(key(p), s);
      rtt.set(key(p), []);
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const p of paths) {
        const s = echoes.get(key(p))!;
        rtt.get(key(p))!.push(...(await pingPong(s, ROUND_TRIPS / ROUNDS)));
        s.removeAllListeners("data");
      }
    }
    for (const s of echoes.values()) s.destroy();

    // Throughput of one connection, best of ROUNDS, and the CPU both ztunnels spend on it.
    const seconds = new Map<string, number>();
    const cpu = { bun: 0, deno: 0 } as Record<Runtime, number>;
    for (let round = 0; round < ROUNDS; round++) {
      for (const p of paths) {
        const pids = p.via === "ambit" ? meshes[p.runtime].nodes.map((n) => n.proc.child.pid!) : [];
        const cpu0 = pids.map(cpuSeconds);
        const t = await pushChecked(await p.open(SINK_PORT), ONE_CONN_BYTES);
        cpu[p.runtime] += pids.reduce((sum, pid, i) => sum + cpuSeconds(pid) - cpu0[i]!, 0);
        seconds.set(key(p), Math.min(seconds.get(key(p)) ?? Infinity, t));
      }
    }
    const rss = Object.fromEntries(runtimes.map((r) => [r, meshes[r].nodes.map((n) => rssBytes(n.proc.child.pid!))])) as Record<Runtime, number[]>;
    const loadAfter = os.loadavg()[0]!;

    const rate = (r: Runtime, via: "ambit" | "direct") => ONE_CONN_BYTES / seconds.get(`${r}/${via}`)!;
    const q = (r: Runtime, via: "ambit" | "direct", p: number) => percentile(rtt.get(`${r}/${via}`)!, p);
    const us = (v: number) => `${v.toFixed(0)} µs`;
    const x = (v: number) => `${v.toFixed(2)}×`;
    const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
    const cpuPerGib = (r: Runtime) => cpu[r] / ((ROUNDS * ONE_CONN_BYTES) / 2 ** 30);
    const [bun, deno] = ["bun", "deno"] as const;
    const rows: string[][] = [];
    for (const r of runtimes) {
      rows.push([`1-connection throughput (${ONE_CONN_BYTES / 1048576} MiB, best of ${ROUNDS}), ztunnels on ${RUNTIME_NAMES[r]}`, `${mibps(ONE_CONN_BYTES, seconds.get(`${r}/ambit`)!)} MiB/s`, `direct TCP ${mibps(ONE_CONN_BYTES, seconds.get(`${r}/direct`)!)} MiB/s`, x(rate(r, "ambit") / rate(r, "direct")), "", ""]);
    }
    rows.push(["1-connection throughput, Deno against Bun", `Deno ${mibps(ONE_CONN_BYTES, seconds.get("deno/ambit")!)} MiB/s`, `Bun ${mibps(ONE_CONN_BYTES, seconds.get("bun/ambit")!)} MiB/s`, x(rate(deno, "ambit") / rate(bun, "ambit")), "", ""]);
    for (const p of [50, 99]) {
      for (const r of runtimes) {
        rows.push([`1-byte round trip p${p}, ztunnels on ${RUNTIME_NAMES[r]}`, `${us(q(r, "ambit", p))} (+${us(q(r, "ambit", p) - q(r, "direct", p))})`, `direct TCP ${us(q(r, "direct", p))}`, x(q(r, "ambit", p) / q(r, "direct", p)), "", ""]);
      }
      rows.push([`1-byte round trip p${p}, Deno against Bun`, `Deno ${us(q(deno, "ambit", p))}`, `Bun ${us(q(bun, "ambit", p))}`, x(q(deno, "ambit", p) / q(bun, "ambit", p)), "", ""]);
    }
    rows.push(["ztunnel CPU per GiB carried (user + system, both ends), Deno against Bun", `Deno ${cpuPerGib(deno).toFixed(1)} s`, `Bun ${cpuPerGib(bun).toFixed(1)} s`, x(cpuPerGib(deno) / cpuPerGib(bun)), "", ""]);
    rows.push(["ztunnel RSS after the run (node-a + node-b), Deno against Bun", `Deno ${mib(rss.deno[0]!)} + ${mib(rss.deno[1]!)}`, `Bun ${mib(rss.bun[0]!)} + ${mib(rss.bun[1]!)}`, x((rss.deno[0]! + rss.deno[1]!) / (rss.bun[0]! + rss.bun[1]!)), "", ""]);
    return [
      "## Bun and Deno on the L4 path (`bench/runtimes.ts`)",
      "",
      "Client in the bench process → SOCKS5 on ztunnel A → HBONE → ztunnel B → sink and echo servers (bench/_l4_servers.ts on Bun) of a node-b",
      `workload in their own process; both ztunnels run on Bun (\`bun run ztunnel/main.ts\`, ${version("bun")}) in one mesh and on Deno`,
      `(\`deno run -A --no-check ztunnel/main.ts\`, ${version("deno")}) in another, side by side, each mesh with its own servers; the reference is`,
      "direct TCP to the same servers. Everything on loopback on one machine, in one run. Each runtime uses its default HBONE stack:",
      "the lean HTTP/2 layer over Bun's TLS sockets on Bun, node:http2 on Deno (docs/hbone.md), so this compares what each runtime ships.",
      `Throughput: ${ONE_CONN_BYTES / 1048576} MiB pushed on one connection, the sink answers its byte count on FIN, best of ${ROUNDS}. Latency: ${ROUND_TRIPS} sequential`,
      `1-byte echoes on one open connection after ${WARM_UP} of warm-up (in brackets: the path's percentile minus direct TCP's).`,
      `The four paths take turns (${ROUNDS} rounds, each path once per round); 1-minute load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after, on ${os.cpus().length} CPUs.`,
      "Ratios are the figure ÷ the reference (higher is better for throughput, lower for latency, CPU and memory). No targets: this compares runtimes.",
      "",
      ...markdownTable(RESULT_COLUMNS, rows),
      "",
    ].join("\n");
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

/** bench/_l4_servers.ts on Bun on `address`; resolves once it listens, with its stop. */
async function startServers(address: string): Promise<() => void> {
  const [cmd, args] = RUNTIMES.bun("bench/_l4_servers.ts", [address, String(SINK_PORT), String(ECHO_PORT)]);
  const servers = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    servers.stdout!.once("data", () => resolve());
    servers.once("exit", (code) => reject(new Error(`bench/_l4_servers.ts exited (${code})`)));
  });
  return () => void servers.kill("SIGKILL");
}

function tcpConnect(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, noDelay: true, allowHalfOpen: true });
    s.once("connect", () => (s.off("error", reject), resolve(s)));
    s.once("error", reject);
  });
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : NaN;
}

function version(runtime: Runtime): string {
  const [cmd] = RUNTIMES[runtime]("", []);
  return execFileSync(cmd, ["--version"], { encoding: "utf8" }).split("\n")[0]!.replace(/^(\d)/, `${runtime} $1`).replace(/ \(.*/, "");
}

if (import.meta.main) console.log(await bench());
