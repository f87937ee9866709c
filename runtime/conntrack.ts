// Reads a redirected connection's original destination from the kernel's
// connection-tracking table (/proc/net/nf_conntrack), for runtimes that expose
// no socket descriptor to ask SO_ORIGINAL_DST on (Deno). The entry to find is
// the one whose reply direction is the accepted socket: its reply source is our
// listener and its reply destination is the client.

/** An IP address and port. */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/** One TCP entry's two directions. */
interface ConntrackTuple {
  readonly original: { src: Endpoint; dst: Endpoint };
  readonly reply: { src: Endpoint; dst: Endpoint };
}

/** Parses one line of /proc/net/nf_conntrack; undefined for non-TCP or malformed lines. */
export function parseConntrackLine(line: string): ConntrackTuple | undefined {
  const fields = line.trim().split(/\s+/);
  if (fields[2] !== "tcp") return undefined;
  const values: Record<"src" | "dst" | "sport" | "dport", string[]> = { src: [], dst: [], sport: [], dport: [] };
  for (const f of fields) {
    const eq = f.indexOf("=");
    if (eq < 0) continue;
    const key = f.slice(0, eq);
    if (key === "src" || key === "dst" || key === "sport" || key === "dport") values[key].push(f.slice(eq + 1));
  }
  if (values.src.length !== 2 || values.dst.length !== 2 || values.sport.length !== 2 || values.dport.length !== 2) return undefined;
  const at = (i: number, a: "src" | "dst", p: "sport" | "dport"): Endpoint => ({ address: values[a][i]!, port: Number(values[p][i]) });
  return {
    original: { src: at(0, "src", "sport"), dst: at(0, "dst", "dport") },
    reply: { src: at(1, "src", "sport"), dst: at(1, "dst", "dport") },
  };
}

/**
 * Finds the original destination of the connection accepted on `local` from
 * `peer` in a conntrack table's text. Undefined when no entry names it or the
 * connection was not translated (the client dialled the listener itself).
 *
 * @example
 * findOriginalDestination(text, { address: "127.0.0.1", port: 15001 }, { address: "10.0.0.1", port: 53370 })
 * // → { address: "10.96.0.10", port: 80 }
 */
export function findOriginalDestination(table: string, local: Endpoint, peer: Endpoint): Endpoint | undefined {
  const same = (a: Endpoint, b: Endpoint) => a.port === b.port && normalize(a.address) === normalize(b.address);
  for (const line of table.split("\n")) {
    const t = parseConntrackLine(line);
    if (!t || !same(t.reply.src, local) || !same(t.reply.dst, peer)) continue;
    if (same(t.original.dst, local)) return undefined;
    return t.original.dst;
  }
  return undefined;
}

function normalize(address: string): string {
  return address.replace(/^::ffff:/, "").toLowerCase();
}
