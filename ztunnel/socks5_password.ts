/**
 * RFC 1929 username/password sub-negotiation, as pure functions over the bytes
 * received so far (the same shape as socks5_protocol.ts): the request a client
 * sends once the server picked method 0x02, and the one-byte status answer.
 *
 * @example
 * ```ts
 * const r = parsePasswordRequest(bytes); // { kind: "ok", username: "client", password: "…", consumed: 52 }
 * socket.write(formatPasswordStatus(true));
 * ```
 * @module
 */
import type { Parsed } from "./socks5_protocol.ts";

/** The sub-negotiation's own version (not SOCKS's 5). */
const SUBNEGOTIATION_VERSION = 0x01;

/** What the client authenticates with. */
export interface PasswordRequest {
  readonly username: string;
  readonly password: string;
}

/** Parses VER ULEN UNAME PLEN PASSWD. A wrong version or an empty field is refused (the caller closes). */
export function parsePasswordRequest(buf: Uint8Array): Parsed<PasswordRequest> {
  if (buf.length < 2) return { kind: "more" };
  if (buf[0] !== SUBNEGOTIATION_VERSION) return { kind: "refuse", reply: null, message: `username/password version ${buf[0]} is not 1` };
  const ulen = buf[1]!;
  if (buf.length < 2 + ulen + 1) return { kind: "more" };
  const plen = buf[2 + ulen]!;
  if (buf.length < 3 + ulen + plen) return { kind: "more" };
  if (ulen === 0 || plen === 0) return { kind: "refuse", reply: null, message: "empty username or password" };
  const text = new TextDecoder("utf-8", { fatal: false });
  return {
    kind: "ok",
    consumed: 3 + ulen + plen,
    username: text.decode(buf.subarray(2, 2 + ulen)),
    password: text.decode(buf.subarray(3 + ulen, 3 + ulen + plen)),
  };
}

/** The status reply: 0x00 succeeds; anything else fails and the server closes. */
export function formatPasswordStatus(ok: boolean): Uint8Array {
  return Uint8Array.of(SUBNEGOTIATION_VERSION, ok ? 0x00 : 0x01);
}
