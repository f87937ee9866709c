// RFC 1928 wire format, as pure functions over the bytes received so far: each
// returns "more" (wait for bytes), a parsed value with how much it consumed, or
// the reply code to refuse with.
import { isIP } from "node:net";

/** Reply codes (RFC 1928 section 6). */
export const SocksReply = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;
export type SocksReplyCode = (typeof SocksReply)[keyof typeof SocksReply];

const VERSION = 0x05;
const NO_AUTH = 0x00;
/** RFC 1929 username/password. */
const USERNAME_PASSWORD = 0x02;
/** Longest DNS name (RFC 1035); a longer one cannot name anything. */
const MAX_DOMAIN = 253;

export type Parsed<T> =
  | { readonly kind: "more" }
  | ({ readonly kind: "ok"; readonly consumed: number } & T)
  | { readonly kind: "refuse"; readonly reply: SocksReplyCode | null; readonly message: string };

/**
 * Parses the client greeting: which of the two methods Ambit knows it offers.
 * A version other than 5 gets no reply (it is not SOCKS5).
 */
export function parseGreeting(buf: Uint8Array): Parsed<{ readonly noAuthOffered: boolean; readonly passwordOffered: boolean }> {
  if (buf.length < 2) return { kind: "more" };
  if (buf[0] !== VERSION) return { kind: "refuse", reply: null, message: `SOCKS version ${buf[0]} is not 5` };
  const n = buf[1]!;
  if (n === 0) return { kind: "refuse", reply: null, message: "greeting offers no methods" };
  if (buf.length < 2 + n) return { kind: "more" };
  const methods = buf.subarray(2, 2 + n);
  return { kind: "ok", consumed: 2 + n, noAuthOffered: methods.includes(NO_AUTH), passwordOffered: methods.includes(USERNAME_PASSWORD) };
}

/** The method-selection reply: 0x00 (no auth), 0x02 (username/password) or 0xFF (none acceptable). */
export function formatMethodSelection(method: "none" | "password" | "refuse"): Uint8Array {
  return Uint8Array.of(VERSION, method === "none" ? NO_AUTH : method === "password" ? USERNAME_PASSWORD : 0xff);
}

/** A CONNECT request's destination. */
export interface SocksRequest {
  readonly host: string;
  readonly port: number;
  readonly addressType: "ipv4" | "ipv6" | "domain";
}

/** Parses a request; only CONNECT is supported. */
export function parseRequest(buf: Uint8Array): Parsed<SocksRequest> {
  if (buf.length < 5) return { kind: "more" };
  if (buf[0] !== VERSION) return { kind: "refuse", reply: SocksReply.generalFailure, message: `request version ${buf[0]} is not 5` };
  const cmd = buf[1]!;
  if (buf[2] !== 0x00) return { kind: "refuse", reply: SocksReply.generalFailure, message: "reserved byte is not zero" };
  const atyp = buf[3]!;
  let host: string;
  let addressType: SocksRequest["addressType"];
  let offset: number;
  if (atyp === 0x01) {
    if (buf.length < 10) return { kind: "more" };
    host = Array.from(buf.subarray(4, 8)).join(".");
    addressType = "ipv4";
    offset = 8;
  } else if (atyp === 0x04) {
    if (buf.length < 22) return { kind: "more" };
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) groups.push(((buf[4 + 2 * i]! << 8) | buf[5 + 2 * i]!).toString(16));
    host = compressIpv6(groups);
    addressType = "ipv6";
    offset = 20;
  } else if (atyp === 0x03) {
    const len = buf[4]!;
    if (buf.length < 5 + len + 2) return { kind: "more" };
    if (len === 0) return { kind: "refuse", reply: SocksReply.hostUnreachable, message: "empty domain name" };
    host = new TextDecoder("utf-8", { fatal: false }).decode(buf.subarray(5, 5 + len));
    if (len > MAX_DOMAIN) return { kind: "refuse", reply: SocksReply.hostUnreachable, message: `domain name of ${len} bytes is longer than ${MAX_DOMAIN}` };
    if (!/^[A-Za-z0-9._-]+$/.test(host)) return { kind: "refuse", reply: SocksReply.hostUnreachable, message: `domain name ${JSON.stringify(host)} has characters DNS names cannot` };
    addressType = "domain";
    offset = 5 + len;
  } else {
    return { kind: "refuse", reply: SocksReply.addressTypeNotSupported, message: `address type ${atyp} is not supported` };
  }
  const port = (buf[offset]! << 8) | buf[offset + 1]!;
  if (cmd !== 0x01) return { kind: "refuse", reply: SocksReply.commandNotSupported, message: `command ${cmd} is not supported (only CONNECT)` };
  if (port === 0) return { kind: "refuse", reply: SocksReply.hostUnreachable, message: "port 0" };
  return { kind: "ok", consumed: offset + 2, host, port, addressType };
}

/** A reply with the bound address (IPv4 0.0.0.0:0 when unknown). */
export function formatReply(reply: SocksReplyCode, bound?: { address: string; port: number }): Uint8Array {
  const port = bound?.port ?? 0;
  if (bound && isIP(bound.address) === 4) {
    return Uint8Array.of(VERSION, reply, 0, 0x01, ...bound.address.split(".").map(Number), port >> 8, port & 0xff);
  }
  return Uint8Array.of(VERSION, reply, 0, 0x01, 0, 0, 0, 0, port >> 8, port & 0xff);
}

function compressIpv6(groups: string[]): string {
  // Collapse the longest run of zero groups, as RFC 5952 prints addresses.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLen && j - i > 1) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
}
