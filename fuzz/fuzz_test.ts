// The short fuzz run that `npm test` includes: every target, a few thousand
// inputs each (the YAML intake, the slowest, fewer), with a fixed seed so a
// failure here reproduces with `bun fuzz/run.ts --seed 20261203 <target>`.
// `npm run fuzz` runs 100,000 inputs per target with a fresh seed.
import { expect, test } from "bun:test";
import { runFuzz } from "./engine.ts";
import { TARGETS } from "./targets.ts";

const SHORT: Record<string, number> = { "yaml-intake": 400 };

for (const target of TARGETS) {
  test(`fuzz ${target.name}: no crash, no hang, bounded memory`, () => {
    const r = runFuzz(target, { inputs: SHORT[target.name] ?? 2000, seed: 20261203 });
    expect(r.firstCrash).toBeUndefined();
    expect({ crashes: r.crashes, hangs: r.hangs }).toEqual({ crashes: 0, hangs: 0 });
    expect(r.heapGrowthMb).toBeLessThan(64);
  }, 60_000);
}

test("the engine finds a planted crash, a planted hang, and reports the input", () => {
  const planted = { name: "planted", seedsFrom: "-", seeds: [Uint8Array.of(1, 2, 3, 4)], expected: (e: unknown) => e instanceof RangeError };
  const crash = runFuzz({ ...planted, run: (b) => { if (b.includes(0xde)) throw new TypeError("planted"); } }, { inputs: 5000, seed: 1 });
  expect(crash.crashes).toBeGreaterThan(0);
  expect(crash.firstCrash!.error).toContain("planted");
  const refusal = runFuzz({ ...planted, run: () => { throw new RangeError("a designed refusal"); } }, { inputs: 100, seed: 1 });
  expect(refusal.crashes).toBe(0);
  const hang = runFuzz({ ...planted, run: (b) => { const until = performance.now() + (b.length === 4 ? 30 : 0); while (performance.now() < until); } }, { inputs: 1, hangMs: 10 });
  expect(hang.hangs).toBe(1);
  let first = true;
  const paused = runFuzz({ ...planted, run: () => { const until = performance.now() + (first ? 30 : 0); first = false; while (performance.now() < until); } }, { inputs: 1, hangMs: 10 });
  expect({ hangs: paused.hangs, slowOnce: paused.slowOnce }).toEqual({ hangs: 0, slowOnce: 1 });
});
