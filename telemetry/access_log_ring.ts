// The last access-log records of a proxy, kept in memory so its admin API can
// answer "what did this workload just do" (the controlplane's service-graph
// page reads it). Bounded; a record's path loses its query string here, so a
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
  readonly #records: AccessRecord[] = [];
  constructor(readonly capacity = 500) {}

  /** Copies every `access` record `log` writes (whatever its level) into the ring. */
  static tapping(log: Logger, capacity?: number): AccessLogRing {
    const ring = new AccessLogRing(capacity);
    log.tap("access", (message, fields) => ring.push(message, fields));
    return ring;
  }

  push(message: string, fields: Readonly<Record<string, unknown>>): void {
    const kept: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) kept[k] = k === "path" && typeof v === "string" ? v.replace(/[?#].*$/s, "") : v;
    this.#records.push({ time: new Date().toISOString(), message, fields: kept });
    if (this.#records.length > this.capacity) this.#records.splice(0, this.#records.length - this.capacity);
  }

  /**
   * The newest records first, at most `limit`, that name the workload `<ns>/<name>` on either end
   * (ztunnel's `src.workload`/`dst.workload` with their namespaces; the waypoint's `upstream` and `src` do not
   * name workloads, so `addresses` — the workload's IPs — match them too).
   */
  recent(filter: { workload?: string; addresses?: readonly string[]; limit?: number } = {}): AccessRecord[] {
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), this.capacity);
    const out: AccessRecord[] = [];
    for (let i = this.#records.length - 1; i >= 0 && out.length < limit; i--) {
      const r = this.#records[i]!;
      if (!filter.workload || names(r, filter.workload, filter.addresses ?? [])) out.push(r);
    }
    return out;
  }
}

function names(r: AccessRecord, workload: string, addresses: readonly string[]): boolean {
  const f = r.fields;
  if (`${f["src.namespace"]}/${f["src.workload"]}` === workload || `${f["dst.namespace"]}/${f["dst.workload"]}` === workload) return true;
  const hosts = [f["src.addr"], f["dst.addr"], f.src, f.upstream].filter((v): v is string => typeof v === "string").map((a) => a.replace(/^\[?([^\]]*?)\]?:\d+$/, "$1"));
  return hosts.some((h) => addresses.includes(h));
}
