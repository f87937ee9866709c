// A/B of the L4 path's throughput against another commit, in the same run:
//   bun bench/l4_ab.ts [ref=main] [rounds=15]
// The other commit is exported read-only (git archive) to a temporary directory
// that shares this tree's node_modules; both trees' own bench/_l4_paths.ts start
// their two ztunnels (and tunnel pairs), and the two take turns, alternating who
// goes first, on bench/l4.ts's throughput figures: 256 MiB on one connection and
// 16 × 16 MiB at once. Prints best-of and median ratios (this tree ÷ ref), and
// the CPU seconds both ztunnels spent per GiB moved, which other load on the
// machine disturbs far less than wall-clock throughput. A change that must not
// cost the data path should stay near 1.00× on both; on a shared machine the
// throughput spread is several percent, so run it more than once.
import * as os from "node:os";
import * as path from "node:path";
import { best, exportTree, HERE, median } from "./_ab_tree.ts";

const ONE = 256 * 1024 * 1024;
const PAR = 16;
const PAR_BYTES = 16 * 1024 * 1024;
const ref = process.argv[2] ?? "main";
const rounds = Number(process.argv[3] ?? 15);
const other = exportTree(ref);
const commit = other.commit;

async function load(root: string) {
  const paths = await (await import(path.join(root, "bench/_l4_paths.ts"))).startL4Paths();
  const { cpuSeconds, pushChecked } = await import(path.join(root, "bench/_proc.ts"));
  const { pushParallel } = await import(path.join(root, "bench/_l4_measure.ts"));
  const pids: number[] = paths.proxies.ambit.map((p: { pid: number }) => p.pid);
  const cpu = () => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  /** MiB/s, and ztunnel CPU seconds per GiB. */
  const timed = async (bytes: number, push: () => Promise<number>) => {
    const before = cpu();
    const seconds = await push();
    return { mibps: bytes / 2 ** 20 / seconds, cpuPerGib: (cpu() - before) / (bytes / 2 ** 30) };
  };
  return {
    paths,
    one: async () => timed(ONE, async () => pushChecked(await paths.open.ambit(9000), ONE)),
    parallel: async () => timed(PAR * PAR_BYTES, () => pushParallel(() => paths.open.ambit(9000), PAR, PAR_BYTES)),
  };
}
type Sample = { mibps: number; cpuPerGib: number };

const trees = { [ref]: await load(other.root), this: await load(HERE) };
const names = Object.keys(trees);
const figures = Object.fromEntries(names.map((n) => [n, { one: [] as Sample[], parallel: [] as Sample[] }]));
const loadBefore = os.loadavg()[0]!;
try {
  for (let r = 0; r < rounds; r++) {
    for (const n of r % 2 === 0 ? names : [...names].reverse()) {
      figures[n]!.one.push(await trees[n]!.one());
      figures[n]!.parallel.push(await trees[n]!.parallel());
    }
  }
} finally {
  for (const t of Object.values(trees)) await t.paths.stop();
  other.remove();
}
console.log(`L4 throughput, this tree vs ${ref} (${commit}), ${rounds} interleaved rounds; 1-minute load ${loadBefore.toFixed(1)} before, ${os.loadavg()[0]!.toFixed(1)} after, ${os.cpus().length} CPUs`);
for (const [k, label] of [["one", "1 connection, 256 MiB"], ["parallel", "16 connections × 16 MiB"]] as const) {
  const a = figures[ref]![k].map((x) => x.mibps);
  const b = figures.this![k].map((x) => x.mibps);
  const ca = figures[ref]![k].map((x) => x.cpuPerGib);
  const cb = figures.this![k].map((x) => x.cpuPerGib);
  console.log(`${label}: best ${best(b).toFixed(0)} vs ${best(a).toFixed(0)} MiB/s = ${(best(b) / best(a)).toFixed(3)}×; median ${median(b).toFixed(0)} vs ${median(a).toFixed(0)} MiB/s = ${(median(b) / median(a)).toFixed(3)}×; ztunnel CPU median ${median(cb).toFixed(2)} vs ${median(ca).toFixed(2)} s/GiB = ${(median(cb) / median(ca)).toFixed(3)}×`);
}
process.exit(0);
