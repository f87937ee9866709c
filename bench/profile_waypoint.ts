// `bun bench/profile_waypoint.ts`: a CPU profile of the waypoint while wrk drives
// HTTP/1.1 keep-alive requests through it (the path of bench/waypoint.ts: HBONE
// forwarder → waypoint → ztunnel → echo server) for 10 s. The profile (Bun's
// markdown form) lands in bench/profiles/waypoint-http1.md, which
// docs/performance.md reads.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runCommand } from "../testing/processes.ts";
import { startWaypointMesh } from "../testing/waypoint_mesh.ts";
import { ensureDebianBinary } from "./_apt.ts";

const root = path.join(import.meta.dirname, "..");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-wp-prof-"));
const mesh = await startWaypointMesh([{ name: "echo", vip: "10.96.9.1", backends: ["echo-v1"] }], () => [], {
  runtimeFlags: ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${work}`],
  waypointArgs: ["--no-access-log"],
});
const wp = await mesh.forwarder("echo");
const wrk = ensureDebianBinary(["wrk"], "wrk");
const url = `http://${wp.address}:${wp.port}/bench`;
await runCommand(wrk, ["-t1", "-c32", "-d3s", url]); // warm-up
const run = await runCommand(wrk, ["-t1", "-c32", "-d10s", "--latency", url]);
console.error(run.stdout);
// SIGTERM: the waypoint drains and exits, and Bun writes the profile on exit.
mesh.waypoint.proc.kill("SIGTERM");
await mesh.waypoint.proc.exited;
await mesh.stop();
const md = fs.readdirSync(work).find((f) => f.endsWith(".md"));
if (!md) throw new Error(`no profile in ${work}`);
const out = path.join(root, "bench", "profiles", "waypoint-http1.md");
fs.copyFileSync(path.join(work, md), out);
console.error(`profile written to ${path.relative(root, out)}`);
