// `npm run bench [-- name…]`: runs the benchmarks, keeps each one's section in
// bench/results/<name>.md, and rebuilds bench/RESULTS.md from all sections with
// the machine and the command that produced them.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";

const ALL = ["hbone", "l4", "policy", "xds", "startup", "runtimes", "capture", "waypoint", "waypoint_security", "kube_pods"] as const;
const dir = import.meta.dirname;
const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const names = wanted.length > 0 ? wanted : [...ALL];

for (const name of names) {
  if (!ALL.includes(name as (typeof ALL)[number])) throw new Error(`unknown benchmark "${name}"; known: ${ALL.join(", ")}`);
  console.error(`bench: running ${name}…`);
  const mod = await import(path.join(dir, `${name}.ts`));
  const section: string = await mod.bench();
  fs.writeFileSync(path.join(dir, "results", `${name}.md`), section);
  console.log(section);
}

const version = (bin: string) => {
  try {
    return execFileSync(path.join(dir, "..", "node_modules", ".bin", bin), ["--version"], { encoding: "utf8" }).split("\n")[0];
  } catch {
    return "not installed";
  }
};
// results/ab_*.md: A/B runs of one change against the commit before it (bench/l4_ab.ts and the like), kept
// beside the full run's sections since no `npm run bench` remakes them.
const abSections = fs.readdirSync(path.join(dir, "results")).filter((f) => /^ab_.*\.md$/.test(f)).sort();
const sections = [
  ...ALL.filter((n) => fs.existsSync(path.join(dir, "results", `${n}.md`))).map((n) => `${n}.md`),
  ...abSections,
].map((f) => fs.readFileSync(path.join(dir, "results", f), "utf8"));
fs.writeFileSync(path.join(dir, "RESULTS.md"), [
  "# Benchmark results",
  "",
  "Produced by `npm run bench` (one benchmark: `npm run bench -- <name>`). Every figure stands beside a reference",
  "measured in the same run on the same machine; the ratio is what to compare across machines.",
  "",
  `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()};`,
  `Bun ${version("bun")}, ${version("deno")}. Last run ${new Date().toISOString().slice(0, 16)}Z.`,
  "",
  ...sections,
].join("\n"));
