// A/B of hbone/copy.ts alone against another commit, in one process:
//   bun bench/copy_ab.ts [ref=main] [rounds=20]
// client → a proxy running copyBidirectional → a sink that counts, on loopback,
// 512 MiB per run, the two implementations taking turns (who goes first
// alternates). Reports throughput and this process's CPU seconds per GiB; the
// client and sink do the same work for both, so a CPU ratio near 1.00× says the
// copy loop costs the same. (The copy is the only per-read code on the data path.)
import * as net from "node:net";
import * as path from "node:path";
import { best, exportTree, HERE, median } from "./_ab_tree.ts";

const BYTES = 512 * 2 ** 20;
const ref = process.argv[2] ?? "main";
const rounds = Number(process.argv[3] ?? 20);
const other = exportTree(ref);
type Copy = (a: net.Socket, b: net.Socket) => Promise<unknown>;
const impl: Record<string, Copy> = {
  [ref]: (await import(path.join(other.root, "hbone/copy.ts"))).copyBidirectional,
  this: (await import(path.join(HERE, "hbone/copy.ts"))).copyBidirectional,
};

const listen = (server: net.Server) => new Promise<number>((r) => server.listen(0, "127.0.0.1", () => r((server.address() as net.AddressInfo).port)));
const sinkPort = await listen(net.createServer((s) => {
  let n = 0;
  s.on("data", (c: Buffer) => void (n += c.length));
  s.on("end", () => s.end(String(n)));
}));
let current = "this";
const proxyPort = await listen(net.createServer({ allowHalfOpen: true }, (down) => {
  void impl[current]!(down, net.connect({ port: sinkPort, host: "127.0.0.1", allowHalfOpen: true }));
}));

const chunk = Buffer.alloc(64 * 1024, 7);
async function run(): Promise<{ mibps: number; cpuPerGib: number }> {
  const s = net.connect(proxyPort, "127.0.0.1");
  await new Promise((r) => s.once("connect", r));
  let reply = "";
  s.on("data", (d: Buffer) => void (reply += d.toString()));
  const done = new Promise((r) => s.on("end", r));
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let sent = 0; sent < BYTES; sent += chunk.length) if (!s.write(chunk)) await new Promise((r) => s.once("drain", r));
  s.end();
  await done;
  if (reply !== String(BYTES)) throw new Error(`sink counted ${reply}, expected ${BYTES}`);
  const c = process.cpuUsage(c0);
  return { mibps: BYTES / 2 ** 20 / ((performance.now() - t0) / 1000), cpuPerGib: (c.user + c.system) / 1e6 / (BYTES / 2 ** 30) };
}

const names = Object.keys(impl);
const results = Object.fromEntries(names.map((n) => [n, [] as { mibps: number; cpuPerGib: number }[]]));
try {
  for (let r = 0; r < rounds; r++) {
    for (const n of r % 2 === 0 ? names : [...names].reverse()) {
      current = n;
      results[n]!.push(await run());
    }
  }
} finally {
  other.remove();
}
const [a, b] = [results[ref]!, results.this!];
const m = (x: typeof a, k: "mibps" | "cpuPerGib") => x.map((y) => y[k]);
console.log(`hbone/copy.ts, this tree vs ${ref} (${other.commit}), ${rounds} × 512 MiB each: best ${best(m(b, "mibps")).toFixed(0)} vs ${best(m(a, "mibps")).toFixed(0)} MiB/s = ${(best(m(b, "mibps")) / best(m(a, "mibps"))).toFixed(3)}×; CPU median ${median(m(b, "cpuPerGib")).toFixed(3)} vs ${median(m(a, "cpuPerGib")).toFixed(3)} s/GiB = ${(median(m(b, "cpuPerGib")) / median(m(a, "cpuPerGib"))).toFixed(3)}×`);
process.exit(0);
