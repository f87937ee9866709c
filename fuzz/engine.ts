/**
 * The fuzz engine: drives one target with inputs from fast-check — random
 * bytes, and mutations (bit flips, truncations, insertions, splices, "interesting"
 * values) of the target's seed corpus — and checks three things per input: it
 * throws nothing but the errors the parser is meant to throw, it finishes within
 * a per-input deadline, and the process's memory stays bounded over the run.
 * No coverage guidance is available on Bun or Deno (see fuzz/README.md): the
 * mutations of real seeds are what reach deep into each parser.
 *
 * @example
 * ```ts
 * const result = runFuzz(socks5Target, { inputs: 100_000 });
 * if (result.crashes > 0) console.error(result.firstCrash);
 * ```
 * @module
 */
import fc from "fast-check";

/** One parser under fuzz. */
export interface FuzzTarget {
  readonly name: string;
  /** Where its seeds come from (for the report). */
  readonly seedsFrom: string;
  readonly seeds: readonly Uint8Array[];
  /** Largest input generated, bytes. */
  readonly maxLength?: number;
  /** Feeds one input to the parser; throws only when it fails. */
  run(input: Uint8Array): void;
  /** True for an error the parser is designed to throw on bad input (a typed refusal, not a crash). */
  expected(error: unknown): boolean;
}

/** What one run found. */
export interface FuzzResult {
  readonly target: string;
  readonly inputs: number;
  readonly crashes: number;
  readonly hangs: number;
  /** Inputs over the hang limit once but not when run again: the machine's pauses, not the parser's. */
  readonly slowOnce: number;
  readonly ms: number;
  /** Largest growth of the heap over the run, MiB (after a collection where the runtime allows one). */
  readonly heapGrowthMb: number;
  readonly firstCrash?: { readonly input: string; readonly error: string };
}

/** Options for {@link runFuzz}. */
export interface FuzzOptions {
  readonly inputs: number;
  /** One input taking longer than this, twice in a row, counts as a hang. Default 1 s. */
  readonly hangMs?: number;
  readonly seed?: number;
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x3f, 0x40, 0x0a, 0x0d, 0x20, 0x22, 0x5b, 0x7b, 0x2d, 0x3a];

/** A mutation applied to a seed. */
type Mutation =
  | { op: "flip"; at: number; bit: number }
  | { op: "set"; at: number; value: number }
  | { op: "insert"; at: number; bytes: Uint8Array }
  | { op: "delete"; at: number; length: number }
  | { op: "truncate"; at: number }
  | { op: "splice"; at: number; other: number; from: number }
  | { op: "repeat"; at: number; length: number; times: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant("set" as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(...INTERESTING), fc.nat(255)) }),
  fc.record({ op: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("splice" as const), at: fc.nat(), other: fc.nat(), from: fc.nat() }),
  fc.record({ op: fc.constant("repeat" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 32 }), times: fc.integer({ min: 2, max: 64 }) }),
);

function mutate(seeds: readonly Uint8Array[], seed: Uint8Array, ops: readonly Mutation[], maxLength: number): Uint8Array {
  let b = seed;
  for (const m of ops) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    switch (m.op) {
      case "flip":
      case "set":
        if (b.length > 0) {
          b = Uint8Array.from(b);
          const i = at % b.length;
          b[i] = m.op === "flip" ? b[i]! ^ (1 << m.bit) : m.value;
        }
        break;
      case "insert":
        b = concat(b.subarray(0, at), m.bytes, b.subarray(at));
        break;
      case "delete":
        b = concat(b.subarray(0, at), b.subarray(at + m.length));
        break;
      case "truncate":
        b = b.subarray(0, at);
        break;
      case "splice": {
        const other = seeds[m.other % seeds.length]!;
        b = concat(b.subarray(0, at), other.subarray(other.length === 0 ? 0 : m.from % other.length));
        break;
      }
      case "repeat": {
        const piece = b.subarray(at, at + m.length);
        b = concat(b.subarray(0, at), ...Array.from({ length: m.times }, () => piece), b.subarray(at));
        break;
      }
    }
    if (b.length > maxLength) b = b.subarray(0, maxLength);
  }
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Inputs for a target: a quarter random bytes, the rest mutated seeds. */
export function inputsFor(target: FuzzTarget): fc.Arbitrary<Uint8Array> {
  const maxLength = target.maxLength ?? 4096;
  const random = fc.uint8Array({ maxLength: Math.min(maxLength, 512) });
  if (target.seeds.length === 0) return random;
  const mutated = fc.tuple(fc.nat(target.seeds.length - 1), fc.array(mutation, { minLength: 0, maxLength: 6 }))
    .map(([i, ops]) => mutate(target.seeds, target.seeds[i]!, ops, maxLength));
  return fc.oneof({ arbitrary: random, weight: 1 }, { arbitrary: mutated, weight: 3 });
}

declare const Bun: { gc(force: boolean): void } | undefined;
function heapMb(): number {
  if (typeof Bun !== "undefined") Bun.gc(true);
  else (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / (1024 * 1024);
}

const hex = (b: Uint8Array) => Buffer.from(b.subarray(0, 256)).toString("hex") + (b.length > 256 ? `… (${b.length} bytes)` : "");

/** Runs `target` on `inputs` inputs; never throws for what the target does. */
export function runFuzz(target: FuzzTarget, options: FuzzOptions): FuzzResult {
  const hangMs = options.hangMs ?? 1000;
  let inputs = 0;
  let crashes = 0;
  let hangs = 0;
  let slowOnce = 0;
  let firstCrash: FuzzResult["firstCrash"];
  const baseline = heapMb();
  let growth = 0;
  const started = performance.now();
  // Every seed exactly once, then generated inputs.
  const check = (input: Uint8Array) => {
    inputs++;
    const t0 = performance.now();
    try {
      target.run(input);
    } catch (e) {
      if (!target.expected(e)) {
        crashes++;
        firstCrash ??= { input: hex(input), error: (e as Error)?.stack ?? String(e) };
      }
    }
    const took = performance.now() - t0;
    if (took > hangMs) {
      // Wall-clock time also counts the moments the process was not scheduled (a loaded
      // machine, a collection): a slow input counts as a hang only if it is slow again.
      const again = timeOne(target, input);
      if (again > hangMs) {
        hangs++;
        firstCrash ??= { input: hex(input), error: `took ${took.toFixed(0)} ms, and ${again.toFixed(0)} ms again (over ${hangMs} ms)` };
      } else {
        slowOnce++;
      }
    }
    if (inputs % 20_000 === 0) growth = Math.max(growth, heapMb() - baseline);
  };
  for (const s of target.seeds) check(s);
  const remaining = Math.max(0, options.inputs - target.seeds.length);
  if (remaining > 0) {
    // fc.check, not fc.assert: the property always holds here; findings are counted above, all of them.
    fc.check(fc.property(inputsFor(target), (input) => void check(input)), { numRuns: remaining, seed: options.seed, endOnFailure: true });
  }
  growth = Math.max(growth, heapMb() - baseline);
  return { target: target.name, inputs, crashes, hangs, slowOnce, ms: performance.now() - started, heapGrowthMb: Math.max(0, growth), firstCrash };
}

function timeOne(target: FuzzTarget, input: Uint8Array): number {
  const t0 = performance.now();
  try {
    target.run(input);
  } catch {
    // judged on the first run already
  }
  return performance.now() - t0;
}
