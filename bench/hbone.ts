// HBONE tunnel throughput and latency, each beside its reference measured in the
// same run on the same machine: raw TCP and raw TLS 1.3 (mTLS) to the same sink.
import { spawn } from "node:child_process";
import * as net from "node:net";
import * as tls from "node:tls";
import * as path from "node:path";
import { ConnectionPool, HBONE_TLS, tlsCredentials } from "../hbone/mod.ts";
import { issue, testCa, writeCertFiles } from "../testing/pki.ts";
import { markdownTable, mibps, percentile, pingPong, pushBytes, ratio } from "./_measure.ts";

const ADDRESS = "127.0.0.1";
const ONE_STREAM_BYTES = 512 * 1024 * 1024;
const STREAMS = 16;
const PER_STREAM_BYTES = 64 * 1024 * 1024;
const ROUND_TRIPS = 5000;

/** Runs the benchmark and returns its section of bench/RESULTS.md. */
export async function bench(): Promise<string> {
  const ca = await testCa();
  const serverCert = await issue(ca, "bench", "server");
  const clientCert = await issue(ca, "bench", "client");
  const files = writeCertFiles(serverCert);
  const child = spawn(process.execPath, [path.join(import.meta.dirname, "_hbone_servers.ts"), ADDRESS, files.cert, files.key, files.ca], { stdio: ["ignore", "pipe", "inherit"] });
  const ports = await new Promise<{ tcpSink: number; echo: number; tlsSink: number; hbone: number }>((resolve) => {
    child.stdout!.once("data", (d) => resolve(JSON.parse(String(d))));
  });
  const pool = new ConnectionPool();
  const tunnel = (port: number) =>
    pool.connect({ source: clientCert, hboneAddress: { address: ADDRESS, port: ports.hbone }, expectedIdentities: [serverCert.identity], target: { address: ADDRESS, port } }).then((t) => t.stream);
  const tcp = (port: number) =>
    new Promise<net.Socket>((r) => {
      const s = net.connect({ host: ADDRESS, port, noDelay: true, allowHalfOpen: true }, () => r(s));
    });
  const tlsConn = (port: number) =>
    new Promise<tls.TLSSocket>((r) => {
      const s = tls.connect({ ...HBONE_TLS, ALPNProtocols: undefined, ...tlsCredentials(clientCert), host: ADDRESS, port, checkServerIdentity: () => undefined }, () => r(s));
      s.setNoDelay(true);
    });

  const best = async (f: () => Promise<number>, runs = 3) => Math.min(...(await sequential(runs, f)));
  const tcpOne = await best(async () => pushBytes(await tcp(ports.tcpSink), ONE_STREAM_BYTES));
  const tlsOne = await best(async () => pushBytes(await tlsConn(ports.tlsSink), ONE_STREAM_BYTES));
  const hboneOne = await best(async () => pushBytes(await tunnel(ports.tcpSink), ONE_STREAM_BYTES));
  const many = async (open: () => Promise<import("node:stream").Duplex>) => {
    const ds = await Promise.all(Array.from({ length: STREAMS }, open));
    const t0 = performance.now();
    await Promise.all(ds.map((d) => pushBytes(d, PER_STREAM_BYTES)));
    return (performance.now() - t0) / 1000;
  };
  const tcpMany = await best(() => many(() => tcp(ports.tcpSink)));
  const hboneMany = await best(() => many(() => tunnel(ports.tcpSink)));
  const connectionsUsed = pool.stats().connectionsOpened;

  const rtt = async (d: import("node:stream").Duplex) => {
    await pingPong(d, 200); // warm-up
    const s = await pingPong(d, ROUND_TRIPS);
    d.destroy();
    return s;
  };
  const tcpRtt = await rtt(await tcp(ports.echo));
  const hboneRtt = await rtt(await tunnel(ports.echo));
  pool.close();
  child.kill();

  const manyBytes = STREAMS * PER_STREAM_BYTES;
  const rows = [
    ["1 stream throughput", `${mibps(ONE_STREAM_BYTES, hboneOne)} MiB/s`, `raw TCP ${mibps(ONE_STREAM_BYTES, tcpOne)} MiB/s`, ratio(tcpOne, hboneOne), "≥ 0.30×"],
    ["1 stream throughput", `${mibps(ONE_STREAM_BYTES, hboneOne)} MiB/s`, `raw mTLS 1.3 ${mibps(ONE_STREAM_BYTES, tlsOne)} MiB/s`, ratio(tlsOne, hboneOne), ""],
    [`${STREAMS} streams, one tunnel connection (${connectionsUsed} opened in all)`, `${mibps(manyBytes, hboneMany)} MiB/s`, `${STREAMS} raw TCP ${mibps(manyBytes, tcpMany)} MiB/s`, ratio(tcpMany, hboneMany), ""],
    ["1-byte round trip p50", `${percentile(hboneRtt, 50).toFixed(0)} µs`, `raw TCP ${percentile(tcpRtt, 50).toFixed(0)} µs`, ratio(percentile(hboneRtt, 50), percentile(tcpRtt, 50)), ""],
    ["1-byte round trip p99", `${percentile(hboneRtt, 99).toFixed(0)} µs`, `raw TCP ${percentile(tcpRtt, 99).toFixed(0)} µs`, ratio(percentile(hboneRtt, 99), percentile(tcpRtt, 99)), ""],
  ];
  return [
    "## HBONE tunnel (`bench/hbone.ts`)",
    "",
    "Client in the bench process; HBONE server, sinks and echo in a second process, all on 127.0.0.1. Throughput is the best of 3 runs",
    `(${ONE_STREAM_BYTES / 1048576} MiB for one stream, ${STREAMS}×${PER_STREAM_BYTES / 1048576} MiB for many); latency is ${ROUND_TRIPS} sequential 1-byte echoes through one open tunnel.`,
    "Throughput ratios are HBONE ÷ reference (higher is better); latency ratios are HBONE ÷ reference (lower is better).",
    "",
    ...markdownTable(["figure", "HBONE", "reference", "ratio", "target"], rows),
    "",
  ].join("\n");
}

async function sequential(n: number, f: () => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await f());
  return out;
}

if (import.meta.main) console.log(await bench());
