import type { Duplex } from "node:stream";

/**
 * Which HTTP/2 implementation carries HBONE:
 * - `lean`: Ambit's own CONNECT-only HTTP/2 over Bun's native TLS sockets (hbone/h2/), Bun only;
 * - `node`: `node:http2` over `node:tls`, on every runtime.
 */
export type Http2Stack = "lean" | "node";

/**
 * `AMBIT_HBONE_HTTP2` when set, else `lean` on Bun and `node` elsewhere; bench/hbone.ts
 * measures both (docs/performance.md has why lean is the default on Bun).
 */
export function defaultHttp2Stack(): Http2Stack {
  const env = typeof process !== "undefined" ? process.env.AMBIT_HBONE_HTTP2 : undefined;
  if (env === "lean" || env === "node") {
    if (env === "lean" && !isBun()) throw new Error("AMBIT_HBONE_HTTP2=lean needs Bun");
    return env;
  }
  return isBun() ? "lean" : "node";
}

function isBun(): boolean {
  return typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
}

/** A CONNECT stream as both stacks present it: bytes both ways, plus a reset. */
export type TunnelStream = Duplex & {
  close(code?: number): void;
  readonly rstCode?: number;
};
