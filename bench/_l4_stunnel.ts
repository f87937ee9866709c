// The stunnel reference for bench/l4.ts: a stunnel client (plain TCP in, TLS 1.3 with
// a client certificate out) and a stunnel server (TLS 1.3 in, client certificate
// required and verified against the CA, plain TCP out to the sink).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { CertFiles } from "../testing/pki.ts";
import { startProcess } from "../testing/processes.ts";
import { ensureDebianBinary } from "./_apt.ts";
import { TLS13_SUITES, tunnelPair, type TunnelPair, type TunnelPairOptions } from "./_l4_tunnel.ts";

/** The stunnel binary, installed from Debian (stunnel4) when neither name is on PATH. */
export const ensureStunnel = (): string => ensureDebianBinary(["stunnel4", "stunnel"], "stunnel4");

/** Starts the pair and waits until both have read their configuration. */
export async function startStunnelPair(o: TunnelPairOptions): Promise<TunnelPair> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-bench-stunnel-"));
  const common = (files: CertFiles) => [
    `cert = ${files.cert}`,
    `key = ${files.key}`,
    `CAfile = ${files.ca}`,
    "verifyChain = yes",
    "sslVersion = TLSv1.3",
    `ciphersuites = ${TLS13_SUITES}`,
    "socket = l:TCP_NODELAY=1",
    "socket = r:TCP_NODELAY=1",
  ];
  // syslog = no: without /dev/log, stunnel falls back to writing every log line to /dev/console, which costs milliseconds.
  const global = ["foreground = yes", "pid =", "syslog = no", "debug = notice"];
  const clientConf = [
    ...global,
    ...o.routes.flatMap((r) => [`[${r.name}]`, "client = yes", `accept = ${o.clientAddress}:${r.port}`, `connect = ${o.serverAddress}:${r.port}`, ...common(o.clientCert)]),
  ];
  const serverConf = [
    ...global,
    ...o.routes.flatMap((r) => [`[${r.name}]`, `accept = ${o.serverAddress}:${r.port}`, `connect = ${r.target.address}:${r.target.port}`, "requireCert = yes", ...common(o.serverCert)]),
  ];
  const start = (name: string, conf: string[]) => {
    const file = path.join(dir, `${name}.conf`);
    fs.writeFileSync(file, conf.join("\n") + "\n");
    return startProcess(o.binary, [file]);
  };
  const pair = tunnelPair(o.clientAddress, [start("client", clientConf), start("server", serverConf)], dir);
  try {
    await Promise.all(pair.procs.map((p) => p.waitForLine(/Configuration successful/, 10_000)));
  } catch (e) {
    await pair.stop();
    throw e;
  }
  return pair;
}
