// The soak's load workers and measurements: paced long transfers, short
// request/response checks, churn, and the RSS and latency bookkeeping.
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import type { LatencyWindow } from "./soak.ts";

export const LONG_RATE = 4 * 1048576; // bytes/s per stream: steady load, not a throughput test
export const CHUNK = 64 * 1024;
export const BLOCK = randomBytes(1048576 + CHUNK); // what every payload is cut from

export interface LongResult {
  readonly sent: number;
  readonly received: number;
  /** The bytes that came back are the bytes that went out. */
  readonly matched: boolean;
  readonly error?: Error;
}

/** One long connection: paced bytes out for `seconds` (or while `running`), FIN, then the whole echo back, compared by SHA-256. */
export async function longTransfer(open: () => Promise<net.Socket>, seconds: number, running: () => boolean, seed: number): Promise<LongResult> {
  let sent = 0;
  let received = 0;
  const sentHash = createHash("sha256");
  const receivedHash = createHash("sha256");
  let socket: net.Socket | undefined;
  try {
    socket = await open();
    const s = socket;
    const echoed = new Promise<void>((resolve, reject) => {
      s.on("data", (c: Buffer) => {
        received += c.length;
        receivedHash.update(c);
      });
      s.on("end", resolve);
      s.on("error", reject);
      s.on("close", () => reject(new Error(`closed after ${received} of ${sent} bytes echoed`)));
    });
    echoed.catch(() => {});
    const t = performance.now();
    for (let k = 0; performance.now() - t < seconds * 1000 && running();) {
      while (sent < ((performance.now() - t) / 1000) * LONG_RATE) {
        const chunk = BLOCK.subarray((seed * 7919 + k * 40_009) % 1048576).subarray(0, CHUNK);
        k++;
        sentHash.update(chunk);
        sent += chunk.length;
        if (!s.write(chunk)) await Promise.race([new Promise((r) => s.once("drain", r)), echoed]);
      }
      await sleep(20);
    }
    s.end();
    await echoed;
    const matched = sentHash.digest("hex") === receivedHash.digest("hex");
    return { sent, received, matched, error: matched ? undefined : new Error(`echo of ${sent} bytes differs (${received} bytes back, SHA-256 mismatch)`) };
  } catch (e) {
    return { sent, received, matched: false, error: e as Error };
  } finally {
    socket?.destroy();
  }
}

/** A request line `<offset> <length>` out; the whole answer back. */
export async function request(open: () => Promise<net.Socket>, offset: number, length: number): Promise<Buffer> {
  const s = await open();
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      s.on("data", (c: Buffer) => chunks.push(c));
      s.on("end", () => resolve(Buffer.concat(chunks)));
      s.on("error", reject);
      s.on("close", () => reject(new Error("closed before the answer ended")));
      s.end(`${offset} ${length}\n`);
    });
  } finally {
    s.destroy();
  }
}

/** The api workload's server: answers `<offset> <length>` with that slice of the shared block, then FIN. */
export function startApiServer(address: string, port: number): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
    let line = "";
    s.on("data", (d: Buffer) => {
      line += d.toString();
      const end = line.indexOf("\n");
      if (end < 0) return;
      const [offset, length] = line.slice(0, end).split(" ").map(Number) as [number, number];
      s.end(BLOCK.subarray(offset, offset + length));
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () =>
      resolve({
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      })
    );
  });
}

/** FIN, then wait for the echo server's FIN and the close. */
export function closeQuietly(s: net.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    s.on("error", reject);
    s.on("close", () => resolve());
    s.resume();
    s.end();
  });
}

/** One byte out, true when the same byte comes back. */
export function echoOne(s: net.Socket): Promise<boolean> {
  return new Promise((resolve, reject) => {
    s.once("data", (d: Buffer) => resolve(d.length === 1 && d[0] === 42));
    s.on("error", reject);
    s.on("close", () => reject(new Error("closed before the echo")));
    s.write(Buffer.from([42]));
  });
}

export function latencyWindows(samples: { at: number; ms: number }[], events: { at: number; what: string }[], windowMs: number, endMs: number): LatencyWindow[] {
  const out: LatencyWindow[] = [];
  for (let from = 0; from < endMs; from += windowMs) {
    const ms = samples.filter((s) => s.at >= from && s.at < from + windowMs).map((s) => s.ms).sort((a, b) => a - b);
    const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))] ?? 0;
    const what = events.filter((e) => e.at * 1000 >= from && e.at * 1000 < from + windowMs).map((e) => `${e.at.toFixed(1)} s ${e.what}`);
    out.push({ fromSeconds: from / 1000, requests: ms.length, p50: q(50), p99: q(99), max: ms.at(-1) ?? 0, events: what });
  }
  return out;
}

export function rssBytes(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined; // gone (the controlplane between kill and restart)
  }
}

export async function mustApply(result: Promise<{ status: number; body: unknown }>): Promise<void> {
  const r = await result;
  if (r.status !== 200) throw new Error(`controlplane answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
