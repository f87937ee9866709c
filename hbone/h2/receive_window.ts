import { ConnectionError, encodeWindowUpdate, ErrorCode } from "./frames.ts";
import type { H2Stream } from "./stream.ts";

/**
 * The connection's receive window (RFC 9113 6.9): charged as DATA arrives and
 * returned only as readers take the bytes, so what one connection can make us
 * hold is bounded by this window, as ztunnel's h2 does it. The bytes are
 * returned in large increments, or at once when the peer has less than half
 * the window left, so slow readers holding part of it never stall the others
 * behind an increment that waits to grow.
 */
export class ReceiveWindow {
  /** Received and not yet granted back: the peer may send `size - unreturned`. */
  #unreturned = 0;
  /** The part of `unreturned` that readers have taken. */
  #releasable = 0;

  constructor(readonly size: number) {}

  /** `n` bytes arrived; throws FLOW_CONTROL_ERROR when the peer sent beyond the window. */
  charge(n: number): void {
    this.#unreturned += n;
    if (this.#unreturned > this.size) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "peer overran the connection window");
  }

  /** Readers took `n` bytes: the WINDOW_UPDATE increment to send now, or 0. */
  release(n: number): number {
    this.#releasable += n;
    const half = this.size / 2;
    if (this.#releasable === 0 || (this.#releasable < half && this.#unreturned < half)) return 0;
    const increment = this.#releasable;
    this.#unreturned -= increment;
    this.#releasable = 0;
    return increment;
  }

  /** Bytes received that readers still hold (for tests and diagnostics). */
  get held(): number {
    return this.#unreturned - this.#releasable;
  }
}

/**
 * Receive-side flow control for one connection and its streams: what DATA may
 * be taken, and the WINDOW_UPDATEs readers earn back. Bytes count as consumed
 * only once they have left the reader's buffer, so a reader that stops holds
 * at most its stream window, and all of a connection's readers together at
 * most the connection window.
 */
export class ReceiveFlow {
  readonly connection: ReceiveWindow;

  constructor(connectionWindow: number, readonly streamWindow: number, private readonly write: (bytes: Uint8Array) => void) {
    this.connection = new ReceiveWindow(connectionWindow);
  }

  /**
   * `counted` bytes of DATA (`payload` of them data, the rest padding) arrived
   * for `stream`. False when the stream may not take them (unknown, ended, or
   * over its window): they go back to the connection at once and the caller
   * answers the fault.
   */
  accept(stream: H2Stream | undefined, counted: number, payload: number): boolean {
    this.connection.charge(counted);
    if (!stream || stream.remoteEnded || stream.receiveWindow < counted) {
      this.#giveBack(counted);
      return false;
    }
    stream.receiveWindow -= counted;
    stream.pushed += payload;
    // Padding is never read: it is consumed on arrival.
    if (counted > payload) {
      stream.unacknowledged += counted - payload;
      this.#giveBack(counted - payload);
    }
    return true;
  }

  /** The reader may have taken bytes from its buffer: both windows open by what it took. */
  consumed(stream: H2Stream): void {
    const taken = stream.pushed - stream.readableLength - stream.taken;
    if (taken > 0) {
      stream.taken += taken;
      stream.unacknowledged += taken;
      this.#giveBack(taken);
    }
    if (stream.remoteEnded || stream.unacknowledged < this.streamWindow / 2) return;
    this.write(encodeWindowUpdate(stream.id, stream.unacknowledged));
    stream.receiveWindow += stream.unacknowledged;
    stream.unacknowledged = 0;
  }

  /** The stream is gone: what its reader still held goes back to the connection. */
  released(stream: H2Stream): void {
    const held = stream.pushed - stream.taken;
    if (held <= 0) return;
    stream.taken = stream.pushed;
    this.#giveBack(held);
  }

  #giveBack(n: number): void {
    const increment = this.connection.release(n);
    if (increment > 0) this.write(encodeWindowUpdate(0, increment));
  }
}
