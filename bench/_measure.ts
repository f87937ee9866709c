/** Small measuring helpers shared by the benchmarks. */
import type { Duplex } from "node:stream";

/** Sends `bytes` of zeros into `duplex`, ends it, waits for the far side's reply and close. Returns seconds. */
export async function pushBytes(duplex: Duplex, bytes: number): Promise<number> {
  const chunk = Buffer.alloc(256 * 1024);
  const done = new Promise<void>((resolve, reject) => {
    duplex.on("data", () => {});
    duplex.on("end", () => resolve());
    duplex.on("error", reject);
  });
  const t0 = performance.now();
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    if (!duplex.write(chunk)) await new Promise((r) => duplex.once("drain", r));
  }
  duplex.end();
  await done;
  return (performance.now() - t0) / 1000;
}

/** Round-trips one byte `count` times through an echoing duplex; returns each in microseconds. */
export async function pingPong(duplex: Duplex, count: number): Promise<number[]> {
  const samples: number[] = [];
  let resolveOne!: () => void;
  duplex.on("data", () => resolveOne());
  const one = Buffer.from([1]);
  for (let i = 0; i < count; i++) {
    const got = new Promise<void>((r) => (resolveOne = r));
    const t0 = performance.now();
    duplex.write(one);
    await got;
    samples.push((performance.now() - t0) * 1000);
  }
  return samples;
}

/** The p-th percentile (0..100) of samples. */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Formats bytes per second as MiB/s. */
export function mibps(bytes: number, seconds: number): string {
  return (bytes / seconds / 1048576).toFixed(0);
}

/** Formats a ratio to two decimals with a ×. */
export function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}×`;
}

/** The header of a results table: figure, Ambit's value, the reference, their ratio, the target, whether it was met. */
export const RESULT_COLUMNS = ["figure", "Ambit", "reference", "ratio", "target", "met?"] as const;

/** A markdown table: a header row, its rule, and one row per array of cells. */
export function markdownTable(columns: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [`| ${columns.join(" | ")} |`, `|${columns.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)];
}
