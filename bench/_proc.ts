// Readings of a process from /proc, and a push whose bytes the sink confirms:
// shared by the benchmarks that run services as separate processes.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import type * as net from "node:net";
import { pushBytes } from "./_measure.ts";

/** pushBytes, checking that the sink counted every byte. Seconds. */
export async function pushChecked(s: net.Socket, bytes: number): Promise<number> {
  let reply = "";
  s.on("data", (d: Buffer) => void (reply += d.toString()));
  const seconds = await pushBytes(s, bytes);
  s.destroy();
  if (reply !== String(bytes)) throw new Error(`sink counted ${JSON.stringify(reply)} bytes, expected ${bytes}`);
  return seconds;
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds a process has used so far. */
export function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
