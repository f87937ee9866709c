// `bun bench/profile_l4.ts`: CPU profiles of both ztunnels on the L4 path while
// one connection pushes 512 MiB and then 2,000 connections open and close.
// The profiles (Bun's markdown form) land in bench/profiles/, beside the results
// that docs/performance.md reads them against.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { loopbackAddress } from "../testing/loopback.ts";
import { workload } from "../testing/mesh.ts";
import { socksConnect } from "../testing/socks.ts";
import { registerSocksCredentials } from "../testing/socks_credentials.ts";
import { pushBytes } from "./_measure.ts";

const root = path.join(import.meta.dirname, "..");
const out = path.join(root, "bench", "profiles");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-prof-"));
const ip = { client: loopbackAddress(), server: loopbackAddress(), a: loopbackAddress(), b: loopbackAddress() };
fs.writeFileSync(path.join(work, "mesh.yaml"), stringify({
  workloads: [workload({ name: "client", ip: ip.client, node: "node-a" }), workload({ name: "server", ip: ip.server, node: "node-b" })],
}));

const servers = spawn(process.execPath, [path.join(import.meta.dirname, "_l4_servers.ts"), ip.server, "9000", "9001"], { stdio: ["ignore", "pipe", "inherit"] });
await new Promise((r) => servers.stdout!.once("data", r));
const ztunnel = (node: string, address: string) =>
  spawn(process.execPath, [
    "--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${path.join(work, node)}`,
    "run", path.join(root, "ztunnel/main.ts"), "--node", node, "--address", address,
    "--local-config", path.join(work, "mesh.yaml"), "--ca-dir", path.join(work, "ca"), "--log-level", "warn", "--drain-seconds", "1",
    "--socks-credentials-dir", path.join(work, "socks"),
  ], { stdio: "inherit" });
registerSocksCredentials(path.join(work, "socks"));
const procs = [ztunnel("node-a", ip.a), ztunnel("node-b", ip.b)];
for (const address of [ip.a, ip.b]) {
  for (;;) {
    const ok = await fetch(`http://${address}:15021/healthz/ready`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const bulk = await socksConnect({ address: ip.client, port: 15080 }, ip.server, 9000);
if (!bulk.ok) throw new Error("bulk connection refused");
const seconds = await pushBytes(bulk.socket, 512 * 1024 * 1024);
console.error(`512 MiB in ${seconds.toFixed(2)} s (${(512 / seconds).toFixed(0)} MiB/s)`);
const t0 = performance.now();
for (let i = 0; i < 2000; i++) {
  const r = await socksConnect({ address: ip.client, port: 15080 }, ip.server, 9001);
  if (!r.ok) throw new Error("open refused");
  await new Promise<void>((resolve) => {
    r.socket.once("data", () => resolve());
    r.socket.write("x");
  });
  r.socket.destroy();
}
console.error(`2,000 opens in ${((performance.now() - t0) / 1000).toFixed(2)} s`);

for (const p of procs) p.kill("SIGTERM");
await Promise.all(procs.map((p) => new Promise((r) => p.once("exit", r))));
servers.kill();
fs.mkdirSync(out, { recursive: true });
for (const node of ["node-a", "node-b"]) {
  const md = fs.readdirSync(path.join(work, node)).find((f) => f.endsWith(".md"));
  if (md) fs.copyFileSync(path.join(work, node, md), path.join(out, `ztunnel-${node}-l4.md`));
}
console.error(`profiles written to ${path.relative(root, out)}/`);
