// The client side of bench/capture.ts, run inside test host A as a workload's
// user: "captured" dials the sink as any app would (nftables takes it to
// ztunnel's 15001); "socks" dials it through the workload's SOCKS5 listener.
// Same ztunnels, same HBONE path, same sink. Prints one JSON line.
import type * as net from "node:net";
import { socksConnect } from "../testing/socks.ts";
import { openTimes, opensPerSecond } from "./_l4_measure.ts";
import { tcpConnect } from "./_l4_paths.ts";
import { pushChecked } from "./_proc.ts";
import { percentile } from "./_measure.ts";

const [mode, sinkHost, sinkPort, echoPort, socksHost] = process.argv.slice(2) as [string, string, string, string, string];
const BULK_BYTES = 128 * 1024 * 1024;
const OPENS = 300;

async function open(port: number): Promise<net.Socket> {
  if (mode === "captured") return tcpConnect(sinkHost, port);
  const auth = { username: process.env.AMBIT_BENCH_SOCKS_USER ?? "", password: process.env.AMBIT_BENCH_SOCKS_PASSWORD ?? "" };
  const r = await socksConnect({ address: socksHost, port: 15080, auth }, sinkHost, port);
  if (!r.ok) throw new Error(`SOCKS5 refused: ${r.reply}`);
  r.socket.setNoDelay(true);
  return r.socket;
}

await openTimes(() => open(Number(echoPort)), 50); // warm-up: pool, JIT
const times = await openTimes(() => open(Number(echoPort)), OPENS);
const perSecond = await opensPerSecond(() => open(Number(echoPort)), 8, 50);
const seconds = await pushChecked(await open(Number(sinkPort)), BULK_BYTES);
console.log(JSON.stringify({
  mode,
  firstEchoP50Us: percentile(times.firstEcho, 50),
  opensPerSecond: perSecond,
  mibPerSecond: BULK_BYTES / 2 ** 20 / seconds,
}));
