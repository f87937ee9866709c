// The last access-log records of a proxy, kept in memory so its admin API can
// answer "what did this workload just do" (the controlplane's service-graph
// page reads it). Bounded; a record's path loses its query string when read, so a
// token in a URL never leaves the proxy's own log.
import type { Logger } from "./logger.ts";

/** One access-log record: the time, the message and the fields as logged. */
export interface AccessRecord {
  readonly time: string;
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Keeps the most recent `capacity` access records. */
export class AccessLogRing {
  // A circular buffer: a push overwrites the oldest record, never moves the others.
  // What a push costs is one small object: the time is formatted, undefined fields dropped and the query cut
  // only when records are read (the fields object is the logger's own, built fresh for each line).
  readonly #records: { at: number; message: string; fields: Readonly<Record<string, unknown>> }[] = [];
  #next = 0;
  constructor(readonly capacity = 500) {}

  /** Copies every `access` record `log` writes (whatever its level) into the ring. */
  static tapping(log: Logger, capacity?: number): AccessLogRing {
    const ring = new AccessLogRing(capacity);
    log.tap("access", (message, fields) => ring.push(message, fields));
    return ring;
  }

  push(message: string, fields: Readonly<Record<string, unknown>>): void {
    this.#records[this.#next] = { at: Date.now(), message, fields };
    this.#next = (this.#next + 1) % this.capacity;
  }

  /**
   * The newest records first, at most `limit`, that name the workload `<ns>/<name>` on either end
   * (ztunnel's `src.workload`/`dst.workload` with their namespaces; the waypoint's `upstream` and `src` do not
   * name workloads, so `addresses` — the workload's IPs — match them too).
   */
  recent(filter: { workload?: string; addresses?: readonly string[]; limit?: number } = {}): AccessRecord[] {
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), this.capacity);
    const out: AccessRecord[] = [];
    const n = this.#records.length;
    for (let k = 1; k <= n && out.length < limit; k++) {
      const r = this.#records[(this.#next - k + n) % n]!;
      if (!filter.workload || names(r.fields, filter.workload, filter.addresses ?? [])) out.push(publicRecord(r));
    }
    return out;
  }
}

function publicRecord(r: { at: number; message: string; fields: Readonly<Record<string, unknown>> }): AccessRecord {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r.fields)) if (v !== undefined) fields[k] = k === "path" && typeof v === "string" ? v.replace(/[?#].*$/s, "") : v;
  return { time: new Date(r.at).toISOString(), message: r.message, fields };
}

function names(f: Readonly<Record<string, unknown>>, workload: string, addresses: readonly string[]): boolean {
  if (`${f["src.namespace"]}/${f["src.workload"]}` === workload || `${f["dst.namespace"]}/${f["dst.workload"]}` === workload) return true;
  const hosts = [f["src.addr"], f["dst.addr"], f.src, f.upstream].filter((v): v is string => typeof v === "string").map((a) => a.replace(/^\[?([^\]]*?)\]?:\d+$/, "$1"));
  return hosts.some((h) => addresses.includes(h));
}
