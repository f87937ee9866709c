// The mTLS reference for bench/l4.ts: a stunnel client (plain TCP in, TLS 1.3 with
// a client certificate out) and a stunnel server (TLS 1.3 in, client certificate
// required and verified against the CA, plain TCP out to the sink).
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { CertFiles } from "../testing/pki.ts";
import { startProcess, type TestProcess } from "../testing/processes.ts";

/** The stunnel binary, installed from Debian (stunnel4) when neither name is on PATH. */
export function ensureStunnel(): string {
  const find = () => {
    for (const name of ["stunnel4", "stunnel"]) {
      const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
      if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
    }
    return undefined;
  };
  const found = find();
  if (found) return found;
  if (process.getuid?.() !== 0) throw new Error("stunnel is not installed and this is not root: apt-get install -y stunnel4");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () => spawnSync("apt-get", ["install", "-y", "--no-install-recommends", "stunnel4"], { env, stdio: ["ignore", "ignore", "inherit"] }).status === 0;
  if (!install()) {
    execFileSync("apt-get", ["update"], { env, stdio: ["ignore", "ignore", "inherit"] });
    if (!install()) throw new Error("apt-get install stunnel4 failed");
  }
  const after = find();
  if (!after) throw new Error("stunnel4 installed but not on PATH");
  return after;
}

/** One forwarded port: stunnel listens on `port` at both ends and the server forwards to `target`. */
export interface StunnelRoute {
  readonly name: string;
  readonly port: number;
  readonly target: { address: string; port: number };
}

/** A running stunnel client/server pair. */
export interface StunnelPair {
  /** Where plain-TCP clients connect for a route (the stunnel client's accept address). */
  readonly clientAddress: string;
  readonly procs: TestProcess[];
  stop(): Promise<void>;
}

/** Starts the pair and waits until both have read their configuration. */
export async function startStunnelPair(o: {
  binary: string;
  clientAddress: string;
  serverAddress: string;
  routes: StunnelRoute[];
  clientCert: CertFiles;
  serverCert: CertFiles;
}): Promise<StunnelPair> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-bench-stunnel-"));
  const common = (files: CertFiles) => [
    `cert = ${files.cert}`,
    `key = ${files.key}`,
    `CAfile = ${files.ca}`,
    "verifyChain = yes",
    "sslVersion = TLSv1.3",
    // The suites HBONE offers (hbone/tls.ts), in its order, so both carry bytes with AES-128-GCM.
    "ciphersuites = TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384",
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
  const procs = [start("server", serverConf), start("client", clientConf)];
  await Promise.all(procs.map((p) => p.waitForLine(/Configuration successful/, 10_000)));
  return {
    clientAddress: o.clientAddress,
    procs,
    stop: async () => {
      for (const p of procs) p.kill("SIGKILL");
      await Promise.all(procs.map((p) => p.exited));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
