// Two connected in-memory Duplex ends: bytes written to one are read from the
// other, with backpressure (a write's callback waits until the reader wants
// more). node:stream's duplexPair would do, but Deno's node:http server stalls
// on it after the first keep-alive response (its read never completes again);
// this one has no such interaction. Half-close and destroy cross over.
import { Duplex } from "node:stream";

class End extends Duplex {
  peer!: End;
  #pendingWrite: (() => void) | undefined;

  constructor() {
    super({ allowHalfOpen: true });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (e?: Error | null) => void): void {
    if (this.peer.destroyed) return callback(new Error("the other end is closed"));
    if (this.peer.push(chunk)) callback();
    else this.peer.#pendingWrite = () => callback();
  }

  override _final(callback: (e?: Error | null) => void): void {
    this.peer.push(null);
    callback();
  }

  override _read(): void {
    const resume = this.#pendingWrite;
    this.#pendingWrite = undefined;
    resume?.();
  }

  override _destroy(error: Error | null, callback: (e?: Error | null) => void): void {
    const resume = this.#pendingWrite;
    this.#pendingWrite = undefined;
    resume?.();
    if (!this.peer.destroyed) this.peer.destroy();
    callback(error);
  }
}

/** Two connected ends. */
export function connectedPair(): [Duplex, Duplex] {
  const a = new End();
  const b = new End();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
