// Memory of the proxies on an L4 path while it holds many connections open end to
// end, for bench/l4.ts.
import * as fs from "node:fs";
import type * as net from "node:net";
import { closeGracefully, echoOnce } from "./_l4_paths.ts";

/** How many connections open at once while filling up: enough to be quick, few enough not to overflow accept backlogs. */
export const HOLD_BATCH = 100;
/** How long the proxies get to finish their work on the last connections before RSS is read. */
const SETTLE_MS = 1000;

/**
 * Reads the RSS of `pids` (bytes, one per pid) before opening anything, then opens
 * connections through `open` — a batch at a time, each with a byte echoed so it is
 * established end to end — and reads it again on reaching each of `counts`
 * (ascending), calling `atCount` there too. Every connection is closed before it
 * returns, also when it fails.
 */
export async function rssWhileHolding(
  open: () => Promise<net.Socket>,
  pids: readonly number[],
  counts: readonly number[],
  atCount: (held: number) => Promise<void> = async () => {},
): Promise<{ before: number[]; at: number[][] }> {
  const read = () => settledRss(pids);
  const held: net.Socket[] = [];
  let ok = false;
  try {
    const before = await read();
    const at: number[][] = [];
    for (const count of counts) {
      while (held.length < count) {
        const batch = await Promise.allSettled(Array.from({ length: Math.min(HOLD_BATCH, count - held.length) }, async () => {
          const s = await open();
          held.push(s);
          await echoOnce(s);
        }));
        const failed = batch.find((r) => r.status === "rejected");
        if (failed) throw new Error(`opening connection ${held.length} of ${count} failed`, { cause: failed.reason });
      }
      at.push(await read());
      await atCount(count);
    }
    ok = true;
    return { before, at };
  } finally {
    if (ok) await Promise.all(held.map(closeGracefully));
    else for (const s of held) s.destroy();
  }
}

/** The RSS of each of `pids` (bytes) once they have had a moment to finish what they were doing. */
export async function settledRss(pids: readonly number[]): Promise<number[]> {
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  return pids.map(rssBytes);
}

/** VmRSS of a process, bytes. */
function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** This process's soft limit on open files (child processes inherit it). */
export function softOpenFileLimit(): number {
  const m = /Max open files\s+(\d+|unlimited)/.exec(fs.readFileSync("/proc/self/limits", "utf8"));
  return !m || m[1] === "unlimited" ? Infinity : Number(m[1]);
}
