// Start-up: the compiled binaries of `npm run build` (dist/ztunnel,
// dist/controlplane) against `bun run` of the same entry points, exec → ready,
// each start in turn so background load falls on both alike; and what the
// binaries weigh against the Bun executable they embed.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { loopbackAddress } from "../testing/loopback.ts";
import { workload } from "../testing/mesh.ts";
import { repoRoot } from "../testing/runtime_command.ts";
import { execFileSync } from "node:child_process";
import { COMPILE_FLAGS } from "../scripts/build_flags.ts";
import { ensureBinaries } from "../testing/binaries.ts";
import { h2cProbe, http1Probe, type StartSample, timeToReady } from "./_startup_ready.ts";
import { percentile, markdownTable, RESULT_COLUMNS } from "./_measure.ts";

const STARTS = 10;
const TARGET_ZTUNNEL_MS = 150;
const BUN = path.join(repoRoot, "node_modules", ".bin", "bun");

/** Runs the benchmark and returns its section of bench/RESULTS.md. */
export async function bench(): Promise<string> {
  const built = ensureBinaries(["ztunnel", "controlplane"]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-bench-startup-"));

  // ztunnel in file mode: one local workload, so ready means config loaded, a certificate from the dev CA, listeners up.
  const workloadIp = loopbackAddress();
  const configFile = path.join(dir, "mesh.yaml");
  fs.writeFileSync(configFile, stringify({ workloads: [workload({ name: "app", ip: workloadIp, node: "node-a" })], services: [] }));
  const ztunnel = (command: string[]) => () => {
    const address = loopbackAddress(); // its own each start: no listener meets the last one's closing sockets
    const args = ["--node", "node-a", "--address", address, "--local-config", configFile, "--ca-dir", path.join(dir, "ca"), "--socks-credentials-dir", path.join(dir, "socks")];
    return timeToReady(command[0]!, [...command.slice(1), ...args], http1Probe(address, 15021, "/healthz/ready"));
  };
  // The controlplane with a state directory it has seen before (CA and admin token on disk, empty store): a restart.
  const controlplane = (command: string[]) => () => {
    const address = loopbackAddress();
    const args = ["--state-dir", path.join(dir, "controlplane"), "--listen", `${address}:15012`, "--dev-listen", `${address}:15010`];
    return timeToReady(command[0]!, [...command.slice(1), ...args], h2cProbe(`http://${address}:15010`, "/healthz/ready"));
  };
  const bare = path.join(dir, "bare-server");
  execFileSync(BUN, ["build", ...COMPILE_FLAGS, path.join(import.meta.dirname, "_bare_server.ts"), "--outfile", bare], { stdio: ["ignore", "ignore", "inherit"] });
  const bareServer = () => {
    const address = loopbackAddress();
    return timeToReady(bare, [address], http1Probe(address, 15021, "/"));
  };
  const variants = {
    "bare compiled": bareServer,
    "ztunnel compiled": ztunnel([built.paths.ztunnel!]),
    "ztunnel bun run": ztunnel([BUN, "run", path.join(repoRoot, "ztunnel", "main.ts")]),
    "controlplane compiled": controlplane([built.paths.controlplane!]),
    "controlplane bun run": controlplane([BUN, "run", path.join(repoRoot, "controlplane", "main.ts")]),
  };
  type Variant = keyof typeof variants;
  const names = Object.keys(variants) as Variant[];
  const samples = Object.fromEntries(names.map((n) => [n, [] as StartSample[]])) as Record<Variant, StartSample[]>;
  const loadBefore = os.loadavg()[0]!;
  try {
    // One unmeasured start each: creates the dev CA and the controlplane's state, fills the page cache.
    for (const n of names) await variants[n]();
    for (let i = 0; i < STARTS; i++) {
      for (const n of i % 2 === 0 ? names : [...names].reverse()) samples[n].push(await variants[n]());
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const loadAfter = os.loadavg()[0]!;

  const q = (n: Variant, p: number) => percentile(samples[n].map((s) => s.ms), p);
  const rss = (n: Variant) => percentile(samples[n].map((s) => s.rssBytes), 50);
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
  const x = (v: number) => `${v.toFixed(2)}×`;
  const met = (ok: boolean) => (ok ? "yes" : "**missed**");
  const bunBytes = fs.statSync(fs.realpathSync(BUN)).size;
  // The floor: a compiled Bun HTTP server that does nothing else.
  const floorRows = [
    ["ztunnel exec → ready above the floor, median", ms(q("ztunnel compiled", 50)), `bare compiled Bun HTTP server ${ms(q("bare compiled", 50))}`, x(q("ztunnel compiled", 50) / q("bare compiled", 50)), "", ""],
    ["ztunnel RSS when ready above the floor, median", mib(rss("ztunnel compiled")), `bare compiled Bun HTTP server ${mib(rss("bare compiled"))}`, x(rss("ztunnel compiled") / rss("bare compiled")), "≤ 40 MB idle", met(rss("ztunnel compiled") <= 40e6)],
  ];
  const rows: string[][] = [];
  for (const service of ["ztunnel", "controlplane"] as const) {
    const compiled = `${service} compiled` as Variant;
    const bunRun = `${service} bun run` as Variant;
    for (const p of [50, 90]) {
      const target = service === "ztunnel" && p === 50 ? [`≤ ${TARGET_ZTUNNEL_MS} ms`, met(q(compiled, p) <= TARGET_ZTUNNEL_MS)] : ["", ""];
      rows.push([`${service} exec → ready, ${p === 50 ? "median" : "p90"}`, ms(q(compiled, p)), `bun run ${ms(q(bunRun, p))}`, x(q(compiled, p) / q(bunRun, p)), ...target]);
    }
    rows.push([`${service} RSS when ready, median`, mib(rss(compiled)), `bun run ${mib(rss(bunRun))}`, x(rss(compiled) / rss(bunRun)), "", ""]);
    const size = fs.statSync(built.paths[service]!).size;
    rows.push([`dist/${service} size`, mib(size), `the Bun executable ${mib(bunBytes)}`, x(size / bunBytes), "", ""]);
  }
  return [
    "## Start-up (`bench/startup.ts`)",
    "",
    `Exec → ready of the binaries \`npm run build\` makes (\`bun build --compile\`${built.rebuilt ? ", rebuilt for this run" : ""}) against \`bun run <entry>\` of the same entry point,`,
    `${STARTS} starts each after one unmeasured start, the five kinds taking turns (the fifth is the floor: a bare HTTP server compiled the same way). Ready is the first 200 from the readiness endpoint, polled every ~2 ms`,
    "on a fresh connection: ztunnel's `:15021/healthz/ready` (HTTP/1.1) in file mode with one local workload (config loaded, its certificate",
    "from the dev CA, its listeners up); the controlplane's `/healthz/ready` over HTTP/2 cleartext on `--dev-listen` with the project's `Http2Client`,",
    "restarting on a state directory it made before (CA and admin token on disk, empty store). Each process is killed (SIGKILL) once ready.",
    `1-minute load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after, on ${os.cpus().length} CPUs. Ratios are compiled ÷ \`bun run\`, and ztunnel ÷ the bare server in the floor rows (lower is better).`,
    "Targets are printed, not enforced.",
    "",
    ...markdownTable(RESULT_COLUMNS, [...rows, ...floorRows]),
    "",
  ].join("\n");
}

if (import.meta.main) console.log(await bench());
