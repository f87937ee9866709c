import { Duplex } from "node:stream";
import { ErrorCode } from "./frames.ts";

/** Header fields as a record, the shape node:http2 hands out; repeated names become arrays. */
export type HeaderRecord = Record<string, string | string[]>;

/** What a stream needs from its connection; implemented by {@link H2Session}. */
export interface StreamOwner {
  sendHeaders(stream: H2Stream, headers: Record<string, string>, endStream: boolean): void;
  sendData(stream: H2Stream, chunk: Uint8Array, done: (error?: Error | null) => void): void;
  sendEndStream(stream: H2Stream): void;
  sendReset(stream: H2Stream, code: number): void;
  /** The reader took what was pushed: the window may open again. */
  consumed(stream: H2Stream): void;
  forget(stream: H2Stream): void;
}

/**
 * One HTTP/2 stream as a byte duplex, with the subset of node:http2's stream
 * API that HBONE uses (`respond`, `close(code)`, `rstCode`, `session`), so the
 * tunnel code runs unchanged over either layer.
 */
export class H2Stream extends Duplex {
  /** Bytes we may still send (RFC 9113 6.9). */
  sendWindow: number;
  /** Bytes the peer may still send before we grant more. */
  receiveWindow: number;
  /** Bytes the reader took and the peer was not yet granted back. */
  unacknowledged = 0;
  /** Payload bytes pushed to the reader, and how many of them it has taken (they left its buffer). */
  pushed = 0;
  taken = 0;
  localEnded = false;
  remoteEnded = false;
  /** Set when the stream was reset, by either side. */
  rstCode: number | undefined;
  /** Response headers, on a client stream once they arrive. */
  responseHeaders: HeaderRecord | undefined;
  /** Response headers were sent (server side): a reset after this is not an early one. */
  answered = false;
  /** A write waiting for window, given at most `quantum` bytes a turn (write_scheduler.ts). */
  blockedWrite: ((quantum?: number) => unknown) | undefined;

  constructor(
    readonly id: number,
    readonly session: StreamOwner,
    sendWindow: number,
    receiveWindow: number,
  ) {
    super({ allowHalfOpen: true, highWaterMark: 256 * 1024 });
    this.sendWindow = sendWindow;
    this.receiveWindow = receiveWindow;
    // Bytes left in the buffer when END_STREAM came are taken without another `_read`.
    this.once("end", () => session.consumed(this));
  }

  /** Sends the response headers (server side). */
  respond(headers: Record<string, string | number>, options: { endStream?: boolean } = {}): void {
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) fields[k] = String(v);
    const endStream = options.endStream === true;
    this.session.sendHeaders(this, fields, endStream);
    if (endStream) {
      this.localEnded = true;
      this.end();
    }
  }

  /** Resets the stream with `code` (RST_STREAM) and destroys it. */
  close(code: number = ErrorCode.NO_ERROR): void {
    if (this.rstCode === undefined && !this.fullyClosed) {
      this.rstCode = code;
      this.session.sendReset(this, code);
    }
    this.destroy();
  }

  get fullyClosed(): boolean {
    return this.localEnded && this.remoteEnded;
  }

  override _write(chunk: Uint8Array, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.rstCode !== undefined) return callback(new Error(`stream ${this.id} was reset (code ${this.rstCode})`));
    this.session.sendData(this, chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.localEnded && this.rstCode === undefined) {
      this.localEnded = true;
      this.session.sendEndStream(this);
    }
    callback();
  }

  override _read(): void {
    this.session.consumed(this);
  }

  /** Every read (explicit, or `flow()` in flowing mode) may free window: `_read` alone is not called again while one is pending. */
  override read(size?: number): any {
    const chunk = super.read(size);
    if (chunk !== null) this.session.consumed(this);
    return chunk;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.rstCode === undefined && !this.fullyClosed) {
      this.rstCode = error ? ErrorCode.INTERNAL_ERROR : ErrorCode.CANCEL;
      this.session.sendReset(this, this.rstCode);
    }
    this.blockedWrite = undefined;
    this.session.forget(this);
    callback(error);
  }
}
