import { isIP } from "node:net";

/** A destination named by a CONNECT `:authority`: an IP literal and a port. */
export interface SocketAddress {
  readonly address: string;
  readonly port: number;
}

/**
 * Parses `ip:port` or `[v6]:port`. HBONE authorities are always IP literals
 * (the chosen endpoint or service VIP), so host names are refused.
 * Returns undefined when malformed.
 *
 * @example
 * ```ts
 * parseAuthority("[::1]:8080"); // { address: "::1", port: 8080 }
 * ```
 */
export function parseAuthority(authority: string | undefined): SocketAddress | undefined {
  if (!authority) return undefined;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):([0-9]{1,5})$/.exec(authority);
  if (!m) return undefined;
  const address = m[1] ?? m[2]!;
  const port = Number(m[3]);
  const family = isIP(address);
  if (family === 0 || (m[1] !== undefined && family !== 6) || (m[2] !== undefined && family !== 4)) return undefined;
  if (port < 1 || port > 65535) return undefined;
  return { address, port };
}

/** Formats an address as a CONNECT authority. */
export function formatAuthority(addr: SocketAddress): string {
  return isIP(addr.address) === 6 ? `[${addr.address}]:${addr.port}` : `${addr.address}:${addr.port}`;
}

/** Parses a W3C `baggage` header into its key/value members (properties after `;` dropped). */
export function parseBaggage(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const member of header.split(",")) {
    const kv = member.split(";")[0]!.trim();
    const eq = kv.indexOf("=");
    if (eq <= 0) continue;
    const key = kv.slice(0, eq).trim();
    try {
      out[key] = decodeURIComponent(kv.slice(eq + 1).trim());
    } catch {
      out[key] = kv.slice(eq + 1).trim();
    }
  }
  return out;
}

/** Formats baggage members, skipping empty values. */
export function formatBaggage(members: Record<string, string | undefined>): string {
  return Object.entries(members)
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => `${k}=${encodeURIComponent(v!)}`)
    .join(",");
}

/** The parts of a `forwarded` header HBONE uses. */
export interface Forwarded {
  readonly for?: string;
  readonly host?: string;
}

/** Parses the first element of an RFC 7239 `forwarded` header. */
export function parseForwarded(header: string | undefined): Forwarded {
  if (!header) return {};
  const out: { for?: string; host?: string } = {};
  for (const pair of header.split(",")[0]!.split(";")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    const key = pair.slice(0, eq).trim().toLowerCase();
    const value = pair.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1");
    if (key === "for") out.for = value;
    if (key === "host") out.host = value;
  }
  return out;
}

/** Formats `forwarded: for="<src>";host=<hostname>`. */
export function formatForwarded(f: Forwarded): string {
  const parts: string[] = [];
  if (f.for) parts.push(`for="${f.for}"`);
  if (f.host) parts.push(`host=${f.host}`);
  return parts.join(";");
}

/** A W3C traceparent with a fresh trace id and span id, sampled. */
export function newTraceparent(): string {
  const hex = (n: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(n))).toString("hex");
  return `00-${hex(16)}-${hex(8)}-01`;
}

/** True when a traceparent header is well formed (version 00). */
export function isValidTraceparent(value: string | undefined): boolean {
  return !!value && /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/.test(value);
}
