// HBONE tunnel throughput and latency, each beside its reference measured in the
// same run on the same machine: raw TCP and raw TLS 1.3 (mTLS) to the same sink.
import { spawn } from "node:child_process";
import * as net from "node:net";
import * as tls from "node:tls";
import * as path from "node:path";
import { ConnectionPool, HBONE_TLS, type Http2Stack, tlsCredentials } from "../hbone/mod.ts";
import { issue, testCa, writeCertFiles } from "../testing/pki.ts";
import { markdownTable, mibps, percentile, pingPong, pushBytes, ratio } from "./_measure.ts";

const ADDRESS = "127.0.0.1";
const ONE_STREAM_BYTES = 512 * 1024 * 1024;
const STREAMS = 16;
const PER_STREAM_BYTES = 64 * 1024 * 1024;
const ROUND_TRIPS = 5000;
const STACKS: readonly Http2Stack[] = ["lean", "node"];
const STACK_NAMES: Record<Http2Stack, string> = { lean: "lean", node: "node:http2" };

/** Runs the benchmark and returns its section of bench/RESULTS.md. */
export async function bench(): Promise<string> {
  const ca = await testCa();
  const serverCert = await issue(ca, "bench", "server");
  const clientCert = await issue(ca, "bench", "client");
  const files = writeCertFiles(serverCert);
  const child = spawn(process.execPath, [path.join(import.meta.dirname, "_hbone_servers.ts"), ADDRESS, files.cert, files.key, files.ca], { stdio: ["ignore", "pipe", "inherit"] });
  const ports = await new Promise<{ tcpSink: number; echo: number; tlsSink: number; hbone: Record<Http2Stack, number> }>((resolve) => {
    child.stdout!.once("data", (d) => resolve(JSON.parse(String(d))));
  });
  const pools = { lean: new ConnectionPool({ http2: "lean" }), node: new ConnectionPool({ http2: "node" }) };
  const tunnelOver = (stack: Http2Stack) => (port: number) =>
    pools[stack].connect({ source: clientCert, hboneAddress: { address: ADDRESS, port: ports.hbone[stack] }, expectedIdentities: [serverCert.identity], target: { address: ADDRESS, port } }).then((t) => t.stream);
  const tcp = (port: number) =>
    new Promise<net.Socket>((r) => {
      const s = net.connect({ host: ADDRESS, port, noDelay: true, allowHalfOpen: true }, () => r(s));
    });
  const tlsConn = (port: number) =>
    new Promise<tls.TLSSocket>((r) => {
      const s = tls.connect({ ...HBONE_TLS, ALPNProtocols: undefined, ...tlsCredentials(clientCert), host: ADDRESS, port, checkServerIdentity: () => undefined }, () => r(s));
      s.setNoDelay(true);
    });

  const many = async (open: () => Promise<import("node:stream").Duplex>) => {
    const ds = await Promise.all(Array.from({ length: STREAMS }, open));
    const t0 = performance.now();
    await Promise.all(ds.map((d) => pushBytes(d, PER_STREAM_BYTES)));
    return (performance.now() - t0) / 1000;
  };
  const rtt = async (d: import("node:stream").Duplex) => {
    await pingPong(d, 200); // warm-up
    const s = await pingPong(d, ROUND_TRIPS);
    d.destroy();
    return s;
  };
  // Each path runs once per round so background load falls on all of them alike.
  const one: Record<string, number[]> = { tcp: [], tls: [], lean: [], node: [] };
  const manyTimes: Record<string, number[]> = { tcp: [], lean: [], node: [] };
  for (let round = 0; round < 3; round++) {
    one.tcp!.push(await pushBytes(await tcp(ports.tcpSink), ONE_STREAM_BYTES));
    one.tls!.push(await pushBytes(await tlsConn(ports.tlsSink), ONE_STREAM_BYTES));
    for (const stack of STACKS) one[stack]!.push(await pushBytes(await tunnelOver(stack)(ports.tcpSink), ONE_STREAM_BYTES));
    manyTimes.tcp!.push(await many(() => tcp(ports.tcpSink)));
    for (const stack of STACKS) manyTimes[stack]!.push(await many(() => tunnelOver(stack)(ports.tcpSink)));
  }
  const bestOf = (xs: number[]) => Math.min(...xs);
  const connectionsUsed = pools.lean.stats().connectionsOpened;
  const tcpRtt = await rtt(await tcp(ports.echo));
  const rtts = { lean: await rtt(await tunnelOver("lean")(ports.echo)), node: await rtt(await tunnelOver("node")(ports.echo)) };
  pools.lean.close();
  pools.node.close();
  child.kill();

  const manyBytes = STREAMS * PER_STREAM_BYTES;
  const [tcpOne, tlsOne, tcpMany] = [bestOf(one.tcp!), bestOf(one.tls!), bestOf(manyTimes.tcp!)];
  const rows: string[][] = [];
  for (const stack of STACKS) {
    const name = STACK_NAMES[stack];
    const hboneOne = bestOf(one[stack]!);
    const hboneMany = bestOf(manyTimes[stack]!);
    const p = (q: number) => percentile(rtts[stack], q);
    rows.push(
      [`1 stream throughput, ${name}`, `${mibps(ONE_STREAM_BYTES, hboneOne)} MiB/s`, `raw TCP ${mibps(ONE_STREAM_BYTES, tcpOne)} MiB/s`, ratio(tcpOne, hboneOne), stack === "lean" ? "≥ 0.30×" : ""],
      [`1 stream throughput, ${name}`, `${mibps(ONE_STREAM_BYTES, hboneOne)} MiB/s`, `raw mTLS 1.3 (node:tls) ${mibps(ONE_STREAM_BYTES, tlsOne)} MiB/s`, ratio(tlsOne, hboneOne), ""],
      [`${STREAMS} streams on one tunnel connection, ${name}`, `${mibps(manyBytes, hboneMany)} MiB/s`, `${STREAMS} raw TCP ${mibps(manyBytes, tcpMany)} MiB/s`, ratio(tcpMany, hboneMany), ""],
      [`1-byte round trip p50, ${name}`, `${p(50).toFixed(0)} µs`, `raw TCP ${percentile(tcpRtt, 50).toFixed(0)} µs`, ratio(p(50), percentile(tcpRtt, 50)), ""],
      [`1-byte round trip p99, ${name}`, `${p(99).toFixed(0)} µs`, `raw TCP ${percentile(tcpRtt, 99).toFixed(0)} µs`, ratio(p(99), percentile(tcpRtt, 99)), ""],
    );
  }
  const [leanOne, nodeOne] = [bestOf(one.lean!), bestOf(one.node!)];
  rows.push([`1 stream throughput, lean ÷ node:http2`, `${mibps(ONE_STREAM_BYTES, leanOne)} MiB/s`, `node:http2 ${mibps(ONE_STREAM_BYTES, nodeOne)} MiB/s`, ratio(nodeOne, leanOne), "keep lean only if > 1×"]);
  return [
    "## HBONE tunnel (`bench/hbone.ts`)",
    "",
    "Client in the bench process; HBONE servers, sinks and echo in a second process, all on 127.0.0.1. Both HTTP/2 stacks are measured:",
    "**lean** (hbone/h2/, Ambit's CONNECT-only HTTP/2 over Bun's native TLS sockets, the default on Bun) and **node:http2** (the default on Deno).",
    `Throughput is the best of 3 interleaved rounds (${ONE_STREAM_BYTES / 1048576} MiB for one stream, ${STREAMS}×${PER_STREAM_BYTES / 1048576} MiB for many); latency is ${ROUND_TRIPS} sequential 1-byte echoes through one open tunnel.`,
    "Throughput ratios are HBONE ÷ reference (higher is better); latency ratios are HBONE ÷ reference (lower is better).",
    `The lean pool opened ${connectionsUsed} TLS connection(s) in all.`,
    "",
    ...markdownTable(["figure", "HBONE", "reference", "ratio", "target"], rows),
    "",
  ].join("\n");
}

if (import.meta.main) console.log(await bench());
