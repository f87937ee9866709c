// `npm run fuzz`: every target with 100,000 inputs each (--inputs N to change,
// target names to pick some), one line of figures per target, exit 1 on any
// crash or hang. The whole run is one process: a true infinite loop would stop
// it, which the report then shows as a target that never printed its line.
import { runFuzz } from "./engine.ts";
import { TARGETS } from "./targets.ts";

const args = process.argv.slice(2);
const flag = args.indexOf("--inputs");
const inputs = flag >= 0 ? Number(args[flag + 1]) : 100_000;
const seedFlag = args.indexOf("--seed");
const seed = seedFlag >= 0 ? Number(args[seedFlag + 1]) : Date.now() % 2 ** 31;
const names = args.filter((a, i) => !a.startsWith("--") && args[i - 1] !== "--inputs" && args[i - 1] !== "--seed");
const targets = names.length ? TARGETS.filter((t) => names.includes(t.name)) : TARGETS;
if (!Number.isInteger(inputs) || inputs < 1 || targets.length === 0) {
  console.error(`usage: bun fuzz/run.ts [--inputs N] [--seed S] [${TARGETS.map((t) => t.name).join("|")} …]`);
  process.exit(2);
}

console.log(`fuzz: ${targets.length} targets × ${inputs} inputs, seed ${seed}`);
console.log("target           inputs   crashes  hangs  slow once  seconds  heap growth MiB");
let failed = false;
for (const t of targets) {
  const r = runFuzz(t, { inputs, seed });
  console.log(`${t.name.padEnd(16)} ${String(r.inputs).padStart(7)}  ${String(r.crashes).padStart(7)}  ${String(r.hangs).padStart(5)}  ${String(r.slowOnce).padStart(9)}  ${(r.ms / 1000).toFixed(1).padStart(7)}  ${r.heapGrowthMb.toFixed(1).padStart(15)}`);
  if (r.firstCrash) {
    failed = true;
    console.log(`  first finding: input ${r.firstCrash.input}\n  ${r.firstCrash.error.split("\n").slice(0, 6).join("\n  ")}`);
  }
}
process.exit(failed ? 1 : 0);
