// The connection-level measurements of bench/l4.ts, each taking a path's opener so
// every path is measured by the same code.
import type * as net from "node:net";
import { pushChecked } from "./_proc.ts";
import { closeGracefully, echoOnce } from "./_l4_paths.ts";

type Open = () => Promise<net.Socket>;

/** Opens `n` connections one after another; for each, the time to open it, and to open it and get a first byte echoed. µs. */
export async function openTimes(open: Open, n: number): Promise<{ open: number[]; firstEcho: number[] }> {
  const out = { open: [] as number[], firstEcho: [] as number[] };
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const s = await open();
    const t1 = performance.now();
    await echoOnce(s);
    const t2 = performance.now();
    out.open.push((t1 - t0) * 1000);
    out.firstEcho.push((t2 - t0) * 1000);
    await closeGracefully(s);
  }
  return out;
}

/** `openers` loops at once, each opening, echoing one byte and closing (FIN both ways) `each` connections in turn. Connections per second. */
export async function opensPerSecond(open: Open, openers: number, each: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: openers }, async () => {
    for (let i = 0; i < each; i++) {
      const s = await open();
      await echoOnce(s);
      await closeGracefully(s);
    }
  }));
  return (openers * each) / ((performance.now() - t0) / 1000);
}

/** Opens `connections` to the sink, then pushes `bytesEach` through all of them at once; seconds from the first byte to the last count confirmed. */
export async function pushParallel(open: Open, connections: number, bytesEach: number): Promise<number> {
  const opened = await Promise.allSettled(Array.from({ length: connections }, open));
  const sockets = opened.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  try {
    const failed = opened.find((r) => r.status === "rejected");
    if (failed) throw new Error(`opening ${connections} connections at once failed`, { cause: failed.reason });
    const t0 = performance.now();
    await Promise.all(sockets.map((s) => pushChecked(s, bytesEach)));
    return (performance.now() - t0) / 1000;
  } finally {
    for (const s of sockets) s.destroy();
  }
}
