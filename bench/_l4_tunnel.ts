// What the two mTLS tunnel references of bench/l4.ts (stunnel, haproxy) share:
// the routes they forward, the TLS they speak, and the handle the bench holds.
import * as fs from "node:fs";
import type { CertFiles } from "../testing/pki.ts";
import type { TestProcess } from "../testing/processes.ts";

/** The suites HBONE offers (hbone/tls.ts), in its order, so every path carries bytes with AES-128-GCM. */
export const TLS13_SUITES = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384";

/** One forwarded port: the pair listens on `port` at both ends and the server end forwards to `target`. */
export interface TunnelRoute {
  readonly name: string;
  readonly port: number;
  readonly target: { address: string; port: number };
}

/** What a pair is started with. */
export interface TunnelPairOptions {
  readonly binary: string;
  /** Where the client end accepts plain TCP. */
  readonly clientAddress: string;
  /** Where the server end accepts TLS. */
  readonly serverAddress: string;
  readonly routes: readonly TunnelRoute[];
  readonly clientCert: CertFiles;
  readonly serverCert: CertFiles;
}

/** A running client/server tunnel pair. */
export interface TunnelPair {
  /** Where plain-TCP clients connect for a route (the client end's accept address). */
  readonly clientAddress: string;
  /** The client end's process, then the server end's. */
  readonly procs: readonly [client: TestProcess, server: TestProcess];
  stop(): Promise<void>;
}

/** The handle for a started pair whose configuration lives in `dir`; stop kills both and removes `dir`. */
export function tunnelPair(clientAddress: string, procs: TunnelPair["procs"], dir: string): TunnelPair {
  return {
    clientAddress,
    procs,
    stop: async () => {
      for (const p of procs) p.kill("SIGKILL");
      await Promise.all(procs.map((p) => p.exited));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
