// The four paths bench/l4.ts measures, all ending at the same sink and echo servers
// of a node-b workload (bench/_l4_servers.ts, in a process of its own):
//   ambit    client → SOCKS5 on ztunnel A (node-a) → HBONE → ztunnel B (node-b) → servers
//   direct   client → servers
//   stunnel  client → stunnel client → TLS 1.3 → stunnel server → servers
//   haproxy  client → haproxy client → TLS 1.3 → haproxy server → servers
import { spawn } from "node:child_process";
import * as net from "node:net";
import * as path from "node:path";
import { loopbackAddress } from "../testing/loopback.ts";
import { startMesh, workload, type TestNode } from "../testing/mesh.ts";
import { issue, testCa, writeCertFiles } from "../testing/pki.ts";
import { socksConnect } from "../testing/socks.ts";
import { ensureHaproxy, startHaproxyPair } from "./_l4_haproxy.ts";
import { ensureStunnel, startStunnelPair } from "./_l4_stunnel.ts";

/** The paths, in the order they take turns. */
export const PATHS = ["ambit", "direct", "stunnel", "haproxy"] as const;
export type Path = (typeof PATHS)[number];
/** The sink's port: counts bytes until FIN, then answers the count. */
export const SINK_PORT = 9000;
/** The echo server's port: sends every byte back. */
export const ECHO_PORT = 9001;
const SOCKS_PORT = 15080;
const CLOSE_TIMEOUT_MS = 10_000;

/** A proxy process on a path. */
export interface Proxy {
  readonly name: string;
  readonly pid: number;
}

/** The started paths. */
export interface L4Paths {
  /** Opens a connection to the servers' `port` along a path; resolves once it can carry bytes. */
  readonly open: Readonly<Record<Path, (port: number) => Promise<net.Socket>>>;
  /** Each path's proxy processes, client end first (none for direct TCP). */
  readonly proxies: Readonly<Record<Path, readonly Proxy[]>>;
  /** ztunnel A, whose admin surface says how many HBONE connections carry the streams. */
  readonly ztunnelA: TestNode;
  /** Stops every process started here. */
  stop(): Promise<void>;
}

/** Starts the servers, two ztunnels and both tunnel pairs (installing stunnel and haproxy if missing). */
export async function startL4Paths(): Promise<L4Paths> {
  const binaries = { stunnel: ensureStunnel(), haproxy: ensureHaproxy() };
  const ip = { client: loopbackAddress(), sink: loopbackAddress() };
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    while (stops.length > 0) await stops.pop()!();
  };
  try {
    const servers = spawn(process.execPath, [path.join(import.meta.dirname, "_l4_servers.ts"), ip.sink, String(SINK_PORT), String(ECHO_PORT)], { stdio: ["ignore", "pipe", "inherit"] });
    const serversExited = new Promise((resolve) => servers.once("exit", resolve));
    stops.push(() => (servers.kill("SIGKILL"), serversExited));
    await new Promise<void>((resolve, reject) => {
      servers.stdout!.once("data", () => resolve());
      servers.once("exit", (code) => reject(new Error(`bench/_l4_servers.ts exited (${code})`)));
    });

    const mesh = await startMesh(["node-a", "node-b"], {
      workloads: [workload({ name: "client", ip: ip.client, node: "node-a" }), workload({ name: "sink", ip: ip.sink, node: "node-b" })],
      services: [],
    });
    stops.push(() => mesh.stop());
    const zA = mesh.nodes["node-a"]!;
    const zB = mesh.nodes["node-b"]!;

    // Both pairs use certificates from the project's own CA helpers, as the ztunnels do.
    const ca = await testCa();
    const certs = { clientCert: writeCertFiles(await issue(ca, "bench", "tunnel-client")), serverCert: writeCertFiles(await issue(ca, "bench", "tunnel-server")) };
    const routes = [
      { name: "sink", port: SINK_PORT, target: { address: ip.sink, port: SINK_PORT } },
      { name: "echo", port: ECHO_PORT, target: { address: ip.sink, port: ECHO_PORT } },
    ];
    const stunnel = await startStunnelPair({ binary: binaries.stunnel, clientAddress: loopbackAddress(), serverAddress: loopbackAddress(), routes, ...certs });
    stops.push(() => stunnel.stop());
    const haproxy = await startHaproxyPair({ binary: binaries.haproxy, clientAddress: loopbackAddress(), serverAddress: loopbackAddress(), routes, ...certs });
    stops.push(() => haproxy.stop());

    const pair = (name: string, procs: typeof stunnel.procs) => procs.map((p, i) => ({ name: `${name} ${i === 0 ? "client" : "server"}`, pid: p.child.pid! }));
    return {
      open: {
        ambit: async (port) => {
          const r = await socksConnect({ address: ip.client, port: SOCKS_PORT }, ip.sink, port);
          if (!r.ok) throw new Error(`SOCKS CONNECT to ${ip.sink}:${port} via ${ip.client}:${SOCKS_PORT} refused: ${r.reply}`);
          return r.socket;
        },
        direct: (port) => tcpConnect(ip.sink, port),
        stunnel: (port) => tcpConnect(stunnel.clientAddress, port),
        haproxy: (port) => tcpConnect(haproxy.clientAddress, port),
      },
      proxies: {
        ambit: [{ name: "ztunnel A", pid: zA.proc.child.pid! }, { name: "ztunnel B", pid: zB.proc.child.pid! }],
        direct: [],
        stunnel: pair("stunnel", stunnel.procs),
        haproxy: pair("haproxy", haproxy.procs),
      },
      ztunnelA: zA,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** A plain TCP connection, Nagle off, half-open allowed (the sink answers after the client's FIN). */
export function tcpConnect(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, noDelay: true, allowHalfOpen: true });
    s.once("connect", () => (s.off("error", reject), resolve(s)));
    s.once("error", reject);
  });
}

/** FIN, then wait for the far side's FIN and the close; a far side that never answers is cut off after a while, so cleanup cannot hang. */
export function closeGracefully(s: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve();
    const timer = setTimeout(() => s.destroy(), CLOSE_TIMEOUT_MS);
    s.once("close", () => (clearTimeout(timer), resolve()));
    s.on("error", () => {});
    s.resume();
    s.end();
  });
}

/** Sends one byte and waits for the echo. */
export function echoOnce(s: net.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    s.once("error", onError);
    s.once("data", () => (s.off("error", onError), resolve()));
    s.write(ONE_BYTE);
  });
}
const ONE_BYTE = Buffer.from([1]);
