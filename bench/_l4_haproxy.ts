// The haproxy reference for bench/l4.ts: a haproxy client end (plain TCP in, TLS 1.3
// with a client certificate out, the server's certificate verified against the CA)
// and a haproxy server end (TLS 1.3 in, client certificate required and verified
// against the CA, plain TCP out to the sink), both in TCP mode with one thread each,
// as each ztunnel runs its JavaScript on one thread.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { CertFiles } from "../testing/pki.ts";
import { startProcess } from "../testing/processes.ts";
import { ensureDebianBinary } from "./_apt.ts";
import { TLS13_SUITES, tunnelPair, type TunnelPair, type TunnelPairOptions } from "./_l4_tunnel.ts";

/** The haproxy binary, installed from Debian when it is not on PATH. */
export const ensureHaproxy = (): string => ensureDebianBinary(["haproxy"], "haproxy");

/** Starts the pair (each config checked with `haproxy -c` first) and waits until both listen. */
export async function startHaproxyPair(o: TunnelPairOptions): Promise<TunnelPair> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-bench-haproxy-"));
  // haproxy reads the certificate chain and its key from one file.
  const pem = (name: string, files: CertFiles) => {
    const file = path.join(dir, `${name}.pem`);
    fs.writeFileSync(file, fs.readFileSync(files.cert, "utf8") + fs.readFileSync(files.key, "utf8"), { mode: 0o600 });
    return file;
  };
  // No sni and no verifyhost on the client end: the peer is checked against the CA only, as stunnel's verifyChain does.
  const tls = (pemFile: string, ca: string) => `ssl crt ${pemFile} ca-file ${ca} verify required ssl-min-ver TLSv1.3 ciphersuites ${TLS13_SUITES}`;
  // No maxconn: haproxy derives it from the open-file limit (half of it, as each connection takes two descriptors).
  const head = [
    "global",
    "  nbthread 1",
    "defaults",
    "  mode tcp",
    "  timeout connect 5s",
    "  timeout client 10m",
    "  timeout server 10m",
  ];
  const clientTls = tls(pem("client", o.clientCert), o.clientCert.ca);
  const serverTls = tls(pem("server", o.serverCert), o.serverCert.ca);
  const clientConf = [
    ...head,
    ...o.routes.flatMap((r) => [`listen ${r.name}`, `  bind ${o.clientAddress}:${r.port}`, `  server ${r.name} ${o.serverAddress}:${r.port} ${clientTls}`]),
  ];
  const serverConf = [
    ...head,
    ...o.routes.flatMap((r) => [`listen ${r.name}`, `  bind ${o.serverAddress}:${r.port} ${serverTls}`, `  server ${r.name} ${r.target.address}:${r.target.port}`]),
  ];
  const write = (name: string, conf: string[]) => {
    const file = path.join(dir, `${name}.cfg`);
    fs.writeFileSync(file, conf.join("\n") + "\n");
    return file;
  };
  const files = [write("client", clientConf), write("server", serverConf)] as const;
  for (const file of files) {
    const check = spawnSync(o.binary, ["-c", "-f", file], { encoding: "utf8" });
    if (check.status === 0) continue;
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`haproxy rejects its configuration ${path.basename(file)}:\n${fs.readFileSync(file, "utf8")}${check.stdout}${check.stderr}`);
  }
  // -db: foreground, one process, no master; -V prints the line that says the listeners are bound.
  const run = (file: string) => startProcess(o.binary, ["-db", "-V", "-f", file]);
  const pair = tunnelPair(o.clientAddress, [run(files[0]), run(files[1])], dir);
  try {
    await Promise.all(pair.procs.map((p) => p.waitForLine(/as the polling mechanism/, 10_000)));
  } catch (e) {
    await pair.stop();
    throw e;
  }
  return pair;
}
