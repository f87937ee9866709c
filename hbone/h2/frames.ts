/**
 * HTTP/2 framing (RFC 9113 section 4 and 6): the frame types, flags, error codes
 * and settings that HBONE's CONNECT streams need, and a parser that cuts a byte
 * stream into frames without copying payloads.
 */

export const FRAME_HEADER_LENGTH = 9;
export const CONNECTION_PREFACE: Uint8Array = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** RFC 9113 section 7. */
export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
} as const;

export const Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

export const DEFAULT_WINDOW = 65_535;
export const DEFAULT_MAX_FRAME_SIZE = 16_384;
export const MAX_WINDOW = 2 ** 31 - 1;

/** One frame as read: `payload` is a view into the bytes received, valid until the next read. */
export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Uint8Array;
}

/** A violation that ends the whole connection with GOAWAY (RFC 9113 5.4.1). */
export class ConnectionError extends Error {
  constructor(readonly errorCode: number, message: string) {
    super(message);
  }
}

/** Writes a frame header into `out` at `at`. */
export function writeFrameHeader(out: Uint8Array, at: number, length: number, type: number, flags: number, streamId: number): void {
  out[at] = length >>> 16;
  out[at + 1] = (length >>> 8) & 0xff;
  out[at + 2] = length & 0xff;
  out[at + 3] = type;
  out[at + 4] = flags;
  out[at + 5] = (streamId >>> 24) & 0x7f;
  out[at + 6] = (streamId >>> 16) & 0xff;
  out[at + 7] = (streamId >>> 8) & 0xff;
  out[at + 8] = streamId & 0xff;
}

/** A whole frame in one buffer, so header and payload leave in one write. */
export function encodeFrame(type: number, flags: number, streamId: number, payload: Uint8Array = EMPTY): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_LENGTH + payload.length);
  writeFrameHeader(out, 0, payload.length, type, flags, streamId);
  out.set(payload, FRAME_HEADER_LENGTH);
  return out;
}

/**
 * DATA frames for `segments` ([offset, length] of `chunk`) in one buffer, so a
 * chunk leaves in one socket write; `total` is their summed size with headers.
 */
export function encodeDataFrames(streamId: number, chunk: Uint8Array, segments: readonly (readonly [number, number])[], total: number): Uint8Array {
  // Every byte is written below, so skip the zero fill.
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const [from, n] of segments) {
    writeFrameHeader(out, at, n, FrameType.DATA, 0, streamId);
    out.set(chunk.subarray(from, from + n), at + FRAME_HEADER_LENGTH);
    at += FRAME_HEADER_LENGTH + n;
  }
  return out;
}

export function encodeSettings(settings: ReadonlyArray<readonly [number, number]>): Uint8Array {
  const payload = new Uint8Array(settings.length * 6);
  const view = new DataView(payload.buffer);
  settings.forEach(([id, value], i) => {
    view.setUint16(i * 6, id);
    view.setUint32(i * 6 + 2, value);
  });
  return encodeFrame(FrameType.SETTINGS, 0, 0, payload);
}

export function encodeWindowUpdate(streamId: number, increment: number): Uint8Array {
  return encodeFrame(FrameType.WINDOW_UPDATE, 0, streamId, uint32(increment));
}

export function encodeRstStream(streamId: number, errorCode: number): Uint8Array {
  return encodeFrame(FrameType.RST_STREAM, 0, streamId, uint32(errorCode));
}

export function encodeGoaway(lastStreamId: number, errorCode: number, debug = ""): Uint8Array {
  const text = new TextEncoder().encode(debug);
  const payload = new Uint8Array(8 + text.length);
  const view = new DataView(payload.buffer);
  view.setUint32(0, lastStreamId & 0x7fffffff);
  view.setUint32(4, errorCode);
  payload.set(text, 8);
  return encodeFrame(FrameType.GOAWAY, 0, 0, payload);
}

export function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/**
 * The payload of a PADDED frame without its padding, or a PROTOCOL_ERROR
 * when the pad length covers the payload (RFC 9113 6.1).
 */
export function unpad(frame: Frame, extraPrefix = 0): Uint8Array {
  let p = frame.payload;
  if (frame.flags & Flag.PADDED) {
    if (p.length < 1) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "padded frame without a pad length");
    const pad = p[0]!;
    if (pad + 1 + extraPrefix > p.length) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "padding exceeds the frame payload");
    p = p.subarray(1, p.length - pad);
  }
  return p.subarray(extraPrefix);
}

/** A piece of an unpadded DATA frame's payload, handed on as it arrives. */
export interface DataPiece {
  readonly streamId: number;
  readonly flags: number;
  readonly data: Uint8Array;
  /** The frame's last piece: END_STREAM, if set, applies after it. */
  readonly last: boolean;
}

/**
 * Cuts received bytes into frames. DATA payloads are never gathered: each
 * piece goes on as a view into the chunk it came in, so a large frame spread
 * over many TLS records costs no copies. Other frames are small and are
 * gathered whole.
 */
export class FrameReader {
  readonly #header = new Uint8Array(FRAME_HEADER_LENGTH);
  #headerFill = 0;
  /** The frame being read, once its header is complete. */
  #type = 0;
  #flags = 0;
  #streamId = 0;
  #remaining = 0;
  #inFrame = false;
  #streaming = false;
  #parts: Uint8Array[] = [];

  constructor(private readonly maxFrameSize: number) {}

  /** Feeds received bytes; calls `onFrame` for each whole frame and `onData` for each DATA piece. */
  push(chunk: Uint8Array, onFrame: (frame: Frame) => void, onData: (piece: DataPiece) => void): void {
    let at = 0;
    const n = chunk.length;
    while (at < n || (this.#inFrame && this.#remaining === 0)) {
      if (!this.#inFrame) {
        // Fast path: a whole header in this chunk.
        if (this.#headerFill === 0 && n - at >= FRAME_HEADER_LENGTH) {
          this.#begin(chunk, at);
          at += FRAME_HEADER_LENGTH;
        } else {
          const take = Math.min(FRAME_HEADER_LENGTH - this.#headerFill, n - at);
          this.#header.set(chunk.subarray(at, at + take), this.#headerFill);
          this.#headerFill += take;
          at += take;
          if (this.#headerFill < FRAME_HEADER_LENGTH) return;
          this.#headerFill = 0;
          this.#begin(this.#header, 0);
        }
        continue;
      }
      const take = Math.min(this.#remaining, n - at);
      const piece = chunk.subarray(at, at + take);
      at += take;
      this.#remaining -= take;
      const last = this.#remaining === 0;
      if (this.#streaming) {
        if (take > 0 || last) onData({ streamId: this.#streamId, flags: this.#flags, data: piece, last });
      } else if (take > 0) {
        this.#parts.push(piece);
      }
      if (!last) return;
      this.#inFrame = false;
      if (!this.#streaming) {
        const payload = this.#parts.length === 1 ? this.#parts[0]! : concatBytes(this.#parts);
        this.#parts = [];
        onFrame({ type: this.#type, flags: this.#flags, streamId: this.#streamId, payload });
      }
    }
  }

  #begin(bytes: Uint8Array, at: number): void {
    const length = (bytes[at]! << 16) | (bytes[at + 1]! << 8) | bytes[at + 2]!;
    if (length > this.maxFrameSize) {
      throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `frame of ${length} bytes exceeds SETTINGS_MAX_FRAME_SIZE ${this.maxFrameSize}`);
    }
    this.#type = bytes[at + 3]!;
    this.#flags = bytes[at + 4]!;
    this.#streamId = readUint32(bytes, at + 5) & 0x7fffffff;
    this.#remaining = length;
    this.#inFrame = true;
    this.#streaming = this.#type === FrameType.DATA && (this.#flags & Flag.PADDED) === 0 && this.#streamId !== 0;
  }
}

/** Joins byte arrays into one. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const EMPTY = new Uint8Array(0);

function uint32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0);
  return out;
}

/** Checks the client connection preface (RFC 9113 3.4), however it is split across reads. */
export class PrefaceReader {
  #seen = 0;

  get done(): boolean {
    return this.#seen === CONNECTION_PREFACE.length;
  }

  /** Consumes preface bytes from `chunk`; returns what follows them. Throws PROTOCOL_ERROR on a mismatch. */
  consume(chunk: Uint8Array): Uint8Array {
    const take = Math.min(CONNECTION_PREFACE.length - this.#seen, chunk.length);
    for (let i = 0; i < take; i++) {
      if (chunk[i] !== CONNECTION_PREFACE[this.#seen + i]) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "not an HTTP/2 connection preface");
    }
    this.#seen += take;
    return chunk.subarray(take);
  }
}
