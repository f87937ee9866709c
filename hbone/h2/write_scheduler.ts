/**
 * The send side of flow control: cuts a stream's writes into DATA frames that
 * fit both windows, and shares the connection window fairly. When the
 * connection window opens, the streams waiting on it take turns of one frame
 * each, in the order they began to wait, so one busy stream cannot take every
 * byte the peer grants while the others starve.
 */
import { encodeDataFrames, FRAME_HEADER_LENGTH } from "./frames.ts";
import type { H2Stream } from "./stream.ts";

/** How a write's turn ended. */
export type WriteTurn = "done" | "stream-window" | "connection-window" | "turn-over";

/** What the scheduler needs of its connection. */
export interface DataSender {
  /** Bytes the peer lets us send on the connection now. */
  connectionWindow: number;
  readonly maxFrameSize: number;
  /** Hands frames to the socket. */
  write(bytes: Uint8Array): void;
  /** Calls `done` once the socket can take more (at once when it can now). */
  whenWritable(done: () => void): void;
  readonly closed: boolean;
}

/** One connection's writers, and the queue of those waiting for connection window. */
export class WriteScheduler {
  /** Insertion-ordered: deleting and re-adding moves a stream to the back. */
  readonly #waiting = new Set<H2Stream>();

  constructor(private readonly connection: DataSender) {}

  /** Sends `chunk` on `stream` as windows allow; `done` runs once it is all handed to the socket. */
  send(stream: H2Stream, chunk: Uint8Array, done: (error?: Error | null) => void): void {
    let offset = 0;
    const turn = (quantum = Infinity): WriteTurn => {
      stream.blockedWrite = undefined;
      if (stream.destroyed || this.connection.closed) {
        done(new Error(`stream ${stream.id} closed while writing`));
        return "done";
      }
      const c = this.connection;
      const frames: [number, number][] = [];
      let total = 0;
      let sent = 0;
      while (offset < chunk.length && sent < quantum) {
        const n = Math.min(chunk.length - offset, stream.sendWindow, c.connectionWindow, c.maxFrameSize);
        if (n <= 0) break;
        frames.push([offset, n]);
        total += FRAME_HEADER_LENGTH + n;
        stream.sendWindow -= n;
        c.connectionWindow -= n;
        offset += n;
        sent += n;
      }
      if (frames.length > 0) c.write(encodeDataFrames(stream.id, chunk, frames, total));
      if (offset >= chunk.length) {
        c.whenWritable(() => done());
        return "done";
      }
      stream.blockedWrite = turn;
      if (stream.sendWindow <= 0) return "stream-window";
      this.#waiting.add(stream);
      return c.connectionWindow <= 0 ? "connection-window" : "turn-over";
    };
    // Behind streams already waiting for the connection window, a new write waits its turn.
    if (this.#waiting.size > 0) {
      stream.blockedWrite = turn;
      this.#waiting.add(stream);
    } else turn();
  }

  /** The connection window opened: waiting streams take turns of one frame until it closes again. */
  resume(): void {
    while (this.#waiting.size > 0 && this.connection.connectionWindow > 0) {
      for (const stream of [...this.#waiting]) {
        if (this.connection.connectionWindow <= 0) return;
        this.#waiting.delete(stream);
        const turn = stream.blockedWrite;
        if (turn) turn(this.connection.maxFrameSize);
      }
    }
  }

  /** The stream's own window opened. */
  resumeStream(stream: H2Stream): void {
    if (this.#waiting.has(stream)) return; // it waits for the connection window, in its place
    stream.blockedWrite?.();
  }

  forget(stream: H2Stream): void {
    this.#waiting.delete(stream);
  }
}
