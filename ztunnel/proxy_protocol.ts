// PROXY protocol v1 (haproxy's text header), parsed from the first bytes of a
// plaintext connection: it names the original destination, which a transparent
// capture would get from SO_ORIGINAL_DST — a socket option JavaScript runtimes
// do not expose.
import { isIP } from "node:net";

/** What a PROXY header says. */
export interface ProxyHeader {
  readonly source: { readonly address: string; readonly port: number };
  readonly destination: { readonly address: string; readonly port: number };
}

/** Longest v1 header (the spec's limit, CRLF included). */
const MAX_V1 = 107;

/**
 * Parses a v1 header at the start of `buf`: "more" while it may still be one,
 * "none" when the bytes are not a PROXY header, "invalid" when it is a bad one.
 */
export function parseProxyV1(buf: Uint8Array):
  | { kind: "more" }
  | { kind: "none" }
  | { kind: "invalid"; message: string }
  | { kind: "ok"; header: ProxyHeader | undefined; consumed: number } {
  const prefix = "PROXY ";
  const head = new TextDecoder().decode(buf.subarray(0, Math.min(buf.length, MAX_V1)));
  if (!prefix.startsWith(head.slice(0, prefix.length)) || (head.length >= prefix.length && !head.startsWith(prefix))) return { kind: "none" };
  const end = head.indexOf("\r\n");
  if (end < 0) return buf.length >= MAX_V1 ? { kind: "invalid", message: "PROXY header longer than 107 bytes" } : { kind: "more" };
  const parts = head.slice(0, end).split(" ");
  if (parts[1] === "UNKNOWN") return { kind: "ok", header: undefined, consumed: end + 2 };
  if (parts.length !== 6 || (parts[1] !== "TCP4" && parts[1] !== "TCP6")) return { kind: "invalid", message: `malformed PROXY header "${head.slice(0, end)}"` };
  const [, proto, src, dst, sport, dport] = parts as [string, string, string, string, string, string];
  const family = proto === "TCP4" ? 4 : 6;
  const port = (p: string) => (/^\d{1,5}$/.test(p) && Number(p) <= 65535 ? Number(p) : NaN);
  if (isIP(src) !== family || isIP(dst) !== family || Number.isNaN(port(sport)) || Number.isNaN(port(dport))) {
    return { kind: "invalid", message: `malformed PROXY header "${head.slice(0, end)}"` };
  }
  return { kind: "ok", header: { source: { address: src, port: port(sport) }, destination: { address: dst, port: port(dport) } }, consumed: end + 2 };
}
