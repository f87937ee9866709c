// Exec → ready for bench/startup.ts: start a process, poll its readiness
// endpoint every ~2 ms until it answers 200, note the time and the RSS, kill it.
import * as fs from "node:fs";
import * as net from "node:net";
import { Http2Client } from "../runtime/http2_client.ts";
import { startProcess } from "../testing/processes.ts";

/** Asks once whether the service is ready: true on a 200, false on anything else (refused included). */
export type ReadinessProbe = () => Promise<boolean>;

/** One start: milliseconds from just before spawn to the first 200, and VmRSS then. */
export interface StartSample {
  readonly ms: number;
  readonly rssBytes: number;
}

const POLL_MS = 2;

/** Starts `cmd args`, waits until `probe` says ready (or fails at the deadline with the output), kills it with SIGKILL. */
export async function timeToReady(cmd: string, args: string[], probe: ReadinessProbe, deadlineMs = 30_000): Promise<StartSample> {
  const t0 = performance.now();
  const proc = startProcess(cmd, args);
  try {
    for (;;) {
      if (await probe()) return { ms: performance.now() - t0, rssBytes: rssBytes(proc.child.pid!) };
      if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`${cmd} exited before ready:\n${proc.lines.slice(-20).join("\n")}`);
      if (performance.now() - t0 > deadlineMs) throw new Error(`${cmd} not ready within ${deadlineMs} ms:\n${proc.lines.slice(-20).join("\n")}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    proc.kill("SIGKILL");
    await proc.exited;
  }
}

/** GET `path` over HTTP/1.1 on a fresh connection (no pooling across restarts); true on 200. */
export function http1Probe(address: string, port: number, path: string): ReadinessProbe {
  return () =>
    new Promise((resolve) => {
      const s = net.connect({ host: address, port });
      let head = "";
      const done = (ok: boolean) => (s.destroy(), resolve(ok));
      s.once("connect", () => s.write(`GET ${path} HTTP/1.1\r\nHost: ${address}\r\nConnection: close\r\n\r\n`));
      s.on("data", (d: Buffer) => {
        head += d.toString("latin1");
        if (head.includes("\r\n")) done(/^HTTP\/1\.[01] 200 /.test(head));
      });
      s.once("error", () => done(false));
      s.once("close", () => done(false));
    });
}

/** GET `path` over HTTP/2 cleartext (h2c) with the project's own client, on a fresh session each time; true on 200. */
export function h2cProbe(url: string, path: string): ReadinessProbe {
  return async () => {
    const client = new Http2Client(url);
    try {
      const res = await client.request("GET", path, { timeoutMs: 1000 });
      res.stream.resume();
      return res.status === 200;
    } catch {
      return false; // refused: not listening yet
    } finally {
      client.close();
    }
  };
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : NaN;
}
