import { ConnectionError, concatBytes, ErrorCode, Flag, type Frame, unpad } from "./frames.ts";
import { HpackDecoder, HpackError } from "./hpack.ts";
import type { HeaderRecord } from "./stream.ts";

/** A decoded header block: `fields` is undefined when the list was over the size limit. */
export interface HeaderBlock {
  readonly streamId: number;
  readonly endStream: boolean;
  readonly fields: [string, string][] | undefined;
}

/**
 * Gathers HEADERS and its CONTINUATIONs into one block and decodes it. The
 * HPACK table is the connection's, so every block is decoded, even for a
 * stream about to be refused.
 */
export class HeaderBlockReader {
  readonly #decoder = new HpackDecoder();
  #block: { streamId: number; flags: number; parts: Uint8Array[]; size: number } | undefined;

  /**
   * `maxFrames` bounds CONTINUATIONs by count, not only bytes: empty ones cost
   * a frame each and no bytes (the 2024 "CONTINUATION flood").
   */
  constructor(private readonly maxBlockSize: number, private readonly maxFrames = 16) {}

  /** Inside a block, only CONTINUATION for the same stream may come (RFC 9113 6.10). */
  get expectingContinuation(): number | undefined {
    return this.#block?.streamId;
  }

  headers(frame: Frame): HeaderBlock | undefined {
    if (frame.streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "HEADERS on stream 0");
    const fragment = unpad(frame, frame.flags & Flag.PRIORITY ? 5 : 0);
    this.#block = { streamId: frame.streamId, flags: frame.flags, parts: [fragment], size: fragment.length };
    return this.#maybeDone(frame);
  }

  continuation(frame: Frame): HeaderBlock | undefined {
    const block = this.#block;
    if (!block || block.streamId !== frame.streamId) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "CONTINUATION without HEADERS");
    block.parts.push(frame.payload);
    block.size += frame.payload.length;
    return this.#maybeDone(frame);
  }

  #maybeDone(frame: Frame): HeaderBlock | undefined {
    const { streamId, flags, parts, size } = this.#block!;
    if (size > this.maxBlockSize) throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, "header block too large");
    if (parts.length > this.maxFrames) throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `header block in over ${this.maxFrames} frames`);
    if (!(frame.flags & Flag.END_HEADERS)) return undefined;
    this.#block = undefined;
    let fields: [string, string][] | undefined;
    try {
      fields = this.#decoder.decode(parts.length === 1 ? parts[0]! : concatBytes(parts));
    } catch (e) {
      if (!(e instanceof HpackError) || e.code !== "ERR_HPACK_HEADER_LIST_SIZE") {
        throw new ConnectionError(ErrorCode.COMPRESSION_ERROR, (e as Error).message);
      }
    }
    return { streamId, endStream: (flags & Flag.END_STREAM) !== 0, fields };
  }
}

/** Fields as a record, node:http2's shape; a repeated name becomes an array. */
export function headerRecord(fields: readonly (readonly [string, string])[]): HeaderRecord {
  const out: HeaderRecord = {};
  for (const [name, value] of fields) {
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else out[name] = Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/** RFC 9113 8.2: field names are lower case; 8.3: pseudo-headers come first. */
export function wellFormedFields(fields: readonly (readonly [string, string])[]): boolean {
  let regular = false;
  for (const [name] of fields) {
    if (name !== name.toLowerCase()) return false;
    if (name.startsWith(":")) {
      if (regular) return false;
    } else regular = true;
  }
  return true;
}
