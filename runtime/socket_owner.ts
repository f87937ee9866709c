// Which user owns the client end of a local TCP connection, from the kernel's
// socket table (/proc/net/tcp, /proc/net/tcp6). Capture by process owner (a VM
// whose workloads run as different users) needs it: the redirect rule matched
// the owner, but the accepted socket only shows an address and port.

import type { Endpoint } from "./conntrack.ts";

/**
 * Finds the uid of the socket whose local end is `client` and remote end is
 * `remote`, in the text of /proc/net/tcp or tcp6. Only established sockets count.
 *
 * @example
 * findSocketOwner(text, { address: "10.77.1.1", port: 53370 }, { address: "10.96.0.10", port: 80 }) // → 2001
 */
export function findSocketOwner(table: string, client: Endpoint, remote: Endpoint): number | undefined {
  const want = `${hexEndpoint(client)} ${hexEndpoint(remote)}`;
  const want6 = `${hexEndpoint6(client)} ${hexEndpoint6(remote)}`;
  for (const line of table.split("\n")) {
    const f = line.trim().split(/\s+/);
    // sl local rem st tx:rx tr:when retrnsmt uid …
    if (f.length < 8 || f[3] !== "01") continue;
    const pair = `${f[1]} ${f[2]}`.toUpperCase();
    if (pair === want || pair === want6) {
      const uid = Number(f[7]);
      return Number.isInteger(uid) ? uid : undefined;
    }
  }
  return undefined;
}

/** 10.77.1.1:80 → "01014D0A:0050" (the kernel prints the address in host byte order). */
function hexEndpoint(e: Endpoint): string {
  const v4 = e.address.replace(/^::ffff:/, "");
  const parts = v4.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return "-";
  const hex = parts.reverse().map((p) => p.toString(16).padStart(2, "0")).join("");
  return `${hex}:${port(e.port)}`.toUpperCase();
}

/** The tcp6 spelling of an IPv4-mapped address: four host-order words. */
function hexEndpoint6(e: Endpoint): string {
  const v4 = hexEndpoint(e);
  if (v4 === "-") return "-";
  return `0000000000000000FFFF0000${v4.slice(0, 8)}:${port(e.port)}`.toUpperCase();
}

function port(p: number): string {
  return p.toString(16).padStart(4, "0").toUpperCase();
}
