// The waypoint benchmark: req/s and latency through client → HBONE (standing in
// for the source ztunnel's hand-off) → waypoint → ztunnel → server, for HTTP/1.1
// keep-alive (wrk) and h2c (h2load); the same path without the waypoint; the
// client straight to the server; and haproxy and nginx as HTTP reverse proxies
// between the same client and server — all in one run. Plus the waypoint's CPU
// per 1,000 requests and its RSS idle and with 1,000 concurrent streams; and
// the cost of tracing (every request sampled, spans to an OTLP/HTTP receiver)
// plus Istio's request metrics against a Service with both off, same waypoint.
import * as fs from "node:fs";
import { spiffeId, CertificateAuthority } from "../identity/mod.ts";
import { startHboneForwarder } from "../testing/hbone_forwarder.ts";
import { loopbackAddress } from "../testing/loopback.ts";
import { runCommand } from "../testing/processes.ts";
import { startWaypointMesh } from "../testing/waypoint_mesh.ts";
import { cpuSeconds } from "./_proc.ts";
import { markdownTable } from "./_measure.ts";
import { startHaproxyHttp, startNginx } from "./_waypoint_refs.ts";
import { ensureDebianBinary } from "./_apt.ts";
import { startProcess } from "../testing/processes.ts";
import { repoRoot } from "../testing/runtime_command.ts";

const SECONDS = Number(process.env.AMBIT_BENCH_WAYPOINT_SECONDS ?? 5);
const CONNECTIONS = 32;

interface Run {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
}

// Clients run asynchronously: the forwarders and the echo server live in this process.
async function wrk(url: string): Promise<Run> {
  const bin = ensureDebianBinary(["wrk"], "wrk");
  const r = await runCommand(bin, ["-t1", `-c${CONNECTIONS}`, `-d${SECONDS}s`, "--latency", url]);
  const out = r.stdout;
  const ms = (label: string) => {
    const m = new RegExp(`^\\s+${label}%\\s+([\\d.]+)(us|ms|s)`, "m").exec(out);
    if (!m) throw new Error(`wrk: no ${label}% latency in:\n${out}${r.stderr}`);
    return Number(m[1]) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[m[2]!]!;
  };
  if (/Non-2xx/.test(out)) throw new Error(`wrk saw errors:\n${out}`);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0), p50Ms: ms("50"), p99Ms: ms("99"), requests };
}

// 4,000 requests over 4 connections: haproxy 2.6 resets h2 streams past 1,000 on one connection.
async function h2load(url: string, n = 4_000): Promise<Run> {
  const bin = ensureDebianBinary(["h2load"], "nghttp2-client");
  const r = await runCommand(bin, [`-n${n}`, "-c4", "-m32", url]);
  const out = r.stdout;
  if (!new RegExp(`${n} succeeded`).test(out)) throw new Error(`h2load failed:\n${out}${r.stderr}`);
  const rps = Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out)?.[1] ?? 0);
  // h2load reports min/max/mean/sd per request, no percentiles: mean stands for p50, mean+2sd for p99.
  const m = /time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)/.exec(out);
  const unit = (v: string, u: string) => Number(v) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[u]!;
  const mean = m ? unit(m[5]!, m[6]!) : NaN;
  const sd = m ? unit(m[7]!, m[8]!) : NaN;
  return { rps, p50Ms: mean, p99Ms: mean + 2 * sd, requests: n };
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Runs the benchmark; returns its markdown section. */
export async function bench(): Promise<string> {
  // Services on one backend: as configured by default (metrics on, no tracing); traced at Istio's default
  // 1 % and at 100 % (a custom tag) plus metrics; with metrics and tracing off (Telemetry's metrics override).
  const sinkAddress = loopbackAddress();
  const sink = startProcess(process.execPath, [`${repoRoot}/bench/_otlp_sink.ts`, sinkAddress]);
  const sinkUrl = `http://${sinkAddress}:${/listening (\d+)/.exec(await sink.waitForLine(/otlp sink listening/, 10_000))![1]}`;
  const mesh = await startWaypointMesh([
    { name: "echo", vip: "10.96.9.1", backends: ["echo-v1"] },
    { name: "echo-traced", vip: "10.96.9.2", backends: ["echo-v1"] },
    { name: "echo-bare", vip: "10.96.9.3", backends: ["echo-v1"] },
    { name: "echo-traced-all", vip: "10.96.9.4", backends: ["echo-v1"] },
  ], () => [], {
    waypointArgs: process.env.AMBIT_BENCH_WAYPOINT_ARGS?.split(" ").filter(Boolean),
    extra: (keys) => ({
      telemetry: [
        { service: keys["echo-traced"], tracing: { provider: { name: "otel", endpoint: `${sinkUrl}/v1/traces` }, randomSamplingPercentage: 1, customTags: { team: { literal: { value: "bench" } } } } },
        { service: keys["echo-traced-all"], tracing: { provider: { name: "otel", endpoint: `${sinkUrl}/v1/traces` }, randomSamplingPercentage: 100, customTags: { team: { literal: { value: "bench" } } } } },
        { service: keys["echo-bare"], metrics: false },
      ],
    }),
  });
  const refs: { stop(): Promise<void> }[] = [];
  try {
    const backend = mesh.backends["echo-v1"]!;
    const server = `${backend.address}:${backend.port}`;
    const wp = await mesh.forwarder("echo");
    const ca = await CertificateAuthority.loadOrCreate({ dir: mesh.mesh.caDir, trustDomain: "cluster.local" });
    const direct = await startHboneForwarder({
      address: loopbackAddress(),
      source: await ca.issue(spiffeId("cluster.local", "default", "sleep"), 3600),
      waypoint: { address: backend.address, port: 15008 },
      waypointIdentity: spiffeId("cluster.local", "default", "echo-v1"),
      target: { address: backend.address, port: backend.port },
    });
    refs.push({ stop: () => direct.close() });
    const proxyAddress = loopbackAddress();
    const haproxy = await startHaproxyHttp(proxyAddress, 18080, 18081, server);
    refs.push(haproxy);
    const nginx = await startNginx(proxyAddress, 18090, 18091, server);
    refs.push(nginx);
    const pid = mesh.waypoint.proc.child.pid!;
    const idleRss = rssMiB(pid);

    const url = (hostPort: string) => `http://${hostPort}/bench`;
    const wpUrl = url(`${wp.address}:${wp.port}`);
    await wrk(wpUrl); // warm-up: JIT, pools, certificates
    const cpu0 = cpuSeconds(pid);
    const h1 = {
      waypoint: await wrk(wpUrl),
      noWaypoint: await wrk(url(`${direct.address}:${direct.port}`)),
      direct: await wrk(url(server)),
      haproxy: await wrk(url(`${proxyAddress}:18080`)),
      nginx: await wrk(url(`${proxyAddress}:18090`)),
    };
    const cpuPer1000 = ((cpuSeconds(pid) - cpu0) / h1.waypoint.requests) * 1000;
    // Tracing + metrics on vs off, interleaved so drift on the shared machine falls on all alike; the waypoint's
    // CPU per request alongside, steadier than req/s when other work shares the cores.
    const observedCases = { bare: await mesh.forwarder("echo-bare"), traced: await mesh.forwarder("echo-traced"), all: await mesh.forwarder("echo-traced-all") };
    const observed: Record<keyof typeof observedCases, { rps: number; cpuUs: number }[]> = { bare: [], traced: [], all: [] };
    for (let i = 0; i < 2; i++) {
      for (const k of ["bare", "traced", "all"] as const) {
        const c = cpuSeconds(pid);
        const r = await wrk(url(`${observedCases[k].address}:${observedCases[k].port}`));
        observed[k].push({ rps: r.rps, cpuUs: ((cpuSeconds(pid) - c) / r.requests) * 1e6 });
      }
    }
    const mean = (k: keyof typeof observed, f: "rps" | "cpuUs") => observed[k].reduce((t, r) => t + r[f], 0) / observed[k].length;
    const ratio = (k: "traced" | "all") => ({ rps: mean(k, "rps") / mean("bare", "rps"), cpu: mean("bare", "cpuUs") / mean(k, "cpuUs") });
    const received = await fetch(`${sinkUrl}/count`).then((r) => r.json()) as { posts: number; bytes: number };
    const h2 = {
      waypoint: await h2load(wpUrl),
      noWaypoint: await h2load(url(`${direct.address}:${direct.port}`)),
      direct: await h2load(url(server)),
      haproxy: await h2load(url(`${proxyAddress}:18081`)),
      nginx: await h2load(url(`${proxyAddress}:18091`)),
    };
    // 1,000 concurrent streams held open by slow responses; RSS read mid-way.
    const slow = await runCommand("sh", ["-c", `h2load -n1000 -c10 -m100 http://${wp.address}:${wp.port}/delay/3000 >/dev/null & sleep 1.5; grep VmRSS /proc/${pid}/status; wait`]);
    const busyRss = Number(/VmRSS:\s+(\d+)/.exec(slow.stdout)?.[1] ?? NaN) / 1024;

    const f = (n: number, d = 0) => n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
    const row = (name: string, r: Run) => [name, f(r.rps), f(r.p50Ms, 2), f(r.p99Ms, 2)];
    const addedP99 = h1.waypoint.p99Ms - h1.noWaypoint.p99Ms;
    const haproxyAdded = h1.haproxy.p99Ms - h1.direct.p99Ms;
    const met = (ok: boolean) => (ok ? "yes" : "**no**");
    return [
      "## Waypoint (L7)",
      "",
      `\`bench/waypoint.ts\`: wrk -t1 -c${CONNECTIONS} -d${SECONDS}s (HTTP/1.1 keep-alive) and h2load -n4000 -c4 -m32 (h2c) against the`,
      "same echo server (JSON echo, in the bench process). \"waypoint\" is client → HBONE forwarder (in the bench process,",
      "standing in for the source ztunnel's hand-off) → waypoint → ztunnel → server; \"no waypoint\" the same forwarder",
      "straight to the ztunnel; haproxy (HTTP mode, nbthread 1) and nginx (1 worker) proxy plain HTTP. The machine is",
      "shared with other work: figures are indicative; ratios are what to compare. The tracing row compares two Services",
      "on the same waypoint: requests traced at 1 % and at 100 % (server and client span, OTLP/HTTP protobuf to a sink",
      "in its own process) with Istio's metrics, against metrics and tracing off; two interleaved wrk runs of each,",
      "and the waypoint's CPU per request in those runs (steadier than req/s on a shared machine).",
      "",
      "HTTP/1.1 (wrk):",
      "",
      ...markdownTable(["path", "req/s", "p50 ms", "p99 ms"], [row("waypoint", h1.waypoint), row("no waypoint (ztunnel only)", h1.noWaypoint), row("client → server", h1.direct), row("haproxy", h1.haproxy), row("nginx", h1.nginx)]),
      "",
      "h2c (h2load; its latency is mean and mean + 2 sd, it reports no percentiles):",
      "",
      ...markdownTable(["path", "req/s", "mean ms", "mean+2sd ms"], [row("waypoint", h2.waypoint), row("no waypoint (ztunnel only)", h2.noWaypoint), row("client → server", h2.direct), row("haproxy", h2.haproxy), row("nginx", h2.nginx)]),
      "",
      ...markdownTable(["target", "measured", "met?"], [
        ["waypoint req/s ≥ 0.5× haproxy's (HTTP/1.1)", `${(h1.waypoint.rps / h1.haproxy.rps).toFixed(2)}×`, met(h1.waypoint.rps >= 0.5 * h1.haproxy.rps)],
        ["added p99 ≤ 2× haproxy's (HTTP/1.1)", `${f(addedP99, 2)} ms vs ${f(haproxyAdded, 2)} ms (${(addedP99 / Math.max(haproxyAdded, 0.001)).toFixed(1)}×)`, met(addedP99 <= 2 * haproxyAdded)],
        ["tracing (1 %, Istio's default) + metrics cost ≤ 10 % of throughput (HTTP/1.1)", `${ratio("traced").rps.toFixed(2)}× req/s (${f(mean("traced", "rps"))} vs ${f(mean("bare", "rps"))}); by CPU per request ${ratio("traced").cpu.toFixed(2)}× (${f(mean("traced", "cpuUs"))} vs ${f(mean("bare", "cpuUs"))} µs)`, met(ratio("traced").rps >= 0.9)],
        ["(informative) tracing at 100 % + metrics", `${ratio("all").rps.toFixed(2)}× req/s (${f(mean("all", "rps"))}); by CPU per request ${ratio("all").cpu.toFixed(2)}× (${f(mean("all", "cpuUs"))} µs); ${f(received.posts)} OTLP posts, ${f(received.bytes / 1e6, 1)} MB`, met(ratio("all").rps >= 0.9)],
        ["≤ 0.25 vCPU per 1,000 req/s", `${cpuPer1000.toFixed(3)} vCPU (${cpuPer1000.toFixed(3)} CPU-s per 1,000 requests)`, met(cpuPer1000 <= 0.25)],
      ]),
      "",
      `Waypoint RSS: ${f(idleRss, 0)} MiB idle, ${f(busyRss, 0)} MiB with 1,000 concurrent h2c streams open.`,
      "",
    ].join("\n");
  } finally {
    for (const r of refs) await r.stop();
    await mesh.stop();
    sink.kill();
  }
}

if (import.meta.main) console.log(await bench());
