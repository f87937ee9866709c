// Fail-open capture (docs/capture.md): the rules redirect only while the
// ztunnel_alive set holds an element, and each element expires on its own.
// A live ztunnel re-adds it at a third of its lifetime; a dead one cannot, so
// within HEARTBEAT_SECONDS its workloads' traffic goes direct.
import { spawn } from "node:child_process";
import { HEARTBEAT_SECONDS, renderHeartbeat } from "../capture/mod.ts";
import type { Logger } from "../telemetry/mod.ts";

/** Starts the heartbeat for `table`; returns the function that stops it. */
export function startCaptureHeartbeat(table: string, log: Logger): () => void {
  let failing = false;
  const beat = () => {
    const child = spawn("nft", ["-f", "-"], { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", (e) => report(e.message));
    child.on("exit", (code) => (code === 0 ? recovered() : report(stderr.trim() || `nft exited ${code}`)));
    child.stdin.end(renderHeartbeat(table));
  };
  // Logged once per outage, not every beat.
  const report = (error: string) => {
    if (!failing) log.warn("capture", "cannot refresh the capture heartbeat (fail-open rules will let traffic go direct)", { table, error });
    failing = true;
  };
  const recovered = () => {
    if (failing) log.info("capture", "capture heartbeat refreshed again", { table });
    failing = false;
  };
  beat();
  const timer = setInterval(beat, (HEARTBEAT_SECONDS * 1000) / 3);
  return () => clearInterval(timer);
}
