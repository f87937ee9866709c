import { constants as h2 } from "node:http2";
import type { Duplex } from "node:stream";

/** Bytes moved each way by {@link copyBidirectional}, and the first error seen. */
export interface CopyResult {
  /** Bytes read from `downstream` and written to `upstream`. */
  readonly sent: number;
  /** Bytes read from `upstream` and written to `downstream`. */
  readonly received: number;
  readonly error?: Error;
}

/** Bytes copied so far each way; {@link copyBidirectional} adds to it as each chunk is read. */
export interface ByteCounts {
  /** Read from `downstream`, written to `upstream`. */
  sent: number;
  /** Read from `upstream`, written to `downstream`. */
  received: number;
}

/**
 * Copies bytes both ways until both sides are done. A FIN (or END_STREAM) on
 * one side becomes a FIN on the other, so half-closed protocols keep working;
 * an abrupt close or reset on one side resets the other. A side that closes
 * cleanly while the other has not ended closes the other too once its writes
 * are out: what the other still sends has nowhere to go. (Deno's node:http2
 * can report a tunnel stream finished and closed, RST_STREAM(NO_ERROR), before
 * the app has ended its side; an app that then never closes held the
 * connection — and its record and span — open for good.) The running totals go
 * into `counts` (one add per chunk, as before), so metrics can read them live.
 */
export function copyBidirectional(downstream: Duplex, upstream: Duplex, counts: ByteCounts = { sent: 0, received: 0 }): Promise<CopyResult> {
  return new Promise((resolve) => {
    let error: Error | undefined;
    let closed = 0;
    downstream.on("data", (c: Buffer) => void (counts.sent += c.length));
    upstream.on("data", (c: Buffer) => void (counts.received += c.length));
    const onClose = (self: Duplex, other: Duplex) => () => {
      if (!cleanlyDone(self)) abort(other);
      else if (!other.readableEnded) closeOnceFlushed(other);
      if (++closed === 2) resolve({ sent: counts.sent, received: counts.received, error });
    };
    const onError = (other: Duplex) => (e: Error) => {
      error ??= e;
      abort(other);
    };
    downstream.on("error", onError(upstream));
    upstream.on("error", onError(downstream));
    downstream.on("close", onClose(downstream, upstream));
    upstream.on("close", onClose(upstream, downstream));
    downstream.pipe(upstream);
    upstream.pipe(downstream);
  });
}

function cleanlyDone(s: Duplex): boolean {
  const rst = (s as { rstCode?: number }).rstCode;
  if (rst !== undefined && rst !== h2.NGHTTP2_NO_ERROR) return false;
  return s.readableEnded && s.writableFinished;
}

function closeOnceFlushed(s: Duplex): void {
  if (s.destroyed) return;
  if (s.writableFinished) s.destroy();
  else s.once("finish", () => s.destroy());
}

/** Resets a stream: RST_STREAM for HTTP/2, a TCP RST for sockets where the runtime offers it. */
export function abort(s: Duplex): void {
  if (s.destroyed) return;
  const stream = s as { close?: (code: number) => void; rstCode?: number; session?: unknown };
  if (stream.session !== undefined && typeof stream.close === "function") {
    stream.close(h2.NGHTTP2_CONNECT_ERROR);
    return;
  }
  const socket = s as { resetAndDestroy?: () => void };
  if (typeof socket.resetAndDestroy === "function") {
    try {
      socket.resetAndDestroy();
      return;
    } catch { /* not connected yet: fall through */ }
  }
  s.destroy();
}
