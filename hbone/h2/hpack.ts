/**
 * HPACK (RFC 7541) for the HBONE HTTP/2 layer: a full decoder for the header
 * blocks peers send, and a small encoder that never uses the dynamic table.
 */
import { AmbitError } from "../../errors/mod.ts";
import { HUFFMAN_EOS, HUFFMAN_PADDING_TOO_LONG, huffmanDecode, huffmanMaxDecodedLength } from "./huffman.ts";

/**
 * Codes raised by HPACK.
 * - `ERR_HPACK_DECODE`: the block is malformed and the dynamic table can no
 *   longer be trusted; a connection error of type COMPRESSION_ERROR (RFC 9113 4.3).
 * - `ERR_HPACK_HEADER_LIST_SIZE`: the block decoded, and the table with it, but
 *   the header list is over the limit; refuse only the stream (431 or RST_STREAM).
 * - `ERR_HPACK_ENCODE`: a name or value holds a character above U+00FF.
 */
export type HpackErrorCode = "ERR_HPACK_DECODE" | "ERR_HPACK_HEADER_LIST_SIZE" | "ERR_HPACK_ENCODE";

/** A header block that cannot be decoded, or a header that cannot be encoded. */
export class HpackError extends AmbitError {
  declare readonly code: HpackErrorCode;
  constructor(code: HpackErrorCode, message: string) {
    super(code, message);
  }
}

/** RFC 7541 Appendix A, from index 1. */
const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [":authority", ""], [":method", "GET"], [":method", "POST"], [":path", "/"], [":path", "/index.html"],
  [":scheme", "http"], [":scheme", "https"], [":status", "200"], [":status", "204"], [":status", "206"],
  [":status", "304"], [":status", "400"], [":status", "404"], [":status", "500"], ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"], ["accept-language", ""], ["accept-ranges", ""], ["accept", ""],
  ["access-control-allow-origin", ""], ["age", ""], ["allow", ""], ["authorization", ""], ["cache-control", ""],
  ["content-disposition", ""], ["content-encoding", ""], ["content-language", ""], ["content-length", ""],
  ["content-location", ""], ["content-range", ""], ["content-type", ""], ["cookie", ""], ["date", ""], ["etag", ""],
  ["expect", ""], ["expires", ""], ["from", ""], ["host", ""], ["if-match", ""], ["if-modified-since", ""],
  ["if-none-match", ""], ["if-range", ""], ["if-unmodified-since", ""], ["last-modified", ""], ["link", ""],
  ["location", ""], ["max-forwards", ""], ["proxy-authenticate", ""], ["proxy-authorization", ""], ["range", ""],
  ["referer", ""], ["refresh", ""], ["retry-after", ""], ["server", ""], ["set-cookie", ""],
  ["strict-transport-security", ""], ["transfer-encoding", ""], ["user-agent", ""], ["vary", ""], ["via", ""],
  ["www-authenticate", ""],
];
const STATIC_COUNT = STATIC_TABLE.length;
// Indexed from 1 like the wire, so a lookup needs no subtraction.
const STATIC_NAMES = ["", ...STATIC_TABLE.map(([name]) => name)];
const STATIC_VALUES = ["", ...STATIC_TABLE.map(([, value]) => value)];
/** Each name's first static index; entries sharing a name are adjacent. */
const STATIC_NAME_INDEX = new Map<string, number>();
for (let i = STATIC_COUNT; i >= 1; i--) STATIC_NAME_INDEX.set(STATIC_NAMES[i]!, i);

const EMPTY: Uint8Array = new Uint8Array(0);
/** RFC 7541 4.1: an entry's size is its name and value octets plus 32. */
const ENTRY_OVERHEAD = 32;
/** Integers above this are an implementation limit (RFC 7541 5.1), reached only by malformed input. */
const MAX_INTEGER = 2 ** 31 - 1;

// Making a string costs ~200 ns here, most of a field's decoding time, while
// the literal strings peers send are mostly ones we know: HBONE's header names
// and the static table's names and values (a peer that does not index, like our
// own encoder, sends "baggage" and "CONNECT" on every request). Matching bytes
// against a known string is a fraction of that, and allocates nothing.
const KNOWN_STRINGS = new Map<number, string[]>();
for (const s of new Set([...STATIC_NAMES, ...STATIC_VALUES, "baggage", "forwarded", "traceparent", "tracestate", "CONNECT"])) {
  if (s === "") continue;
  const key = (s.length << 8) | s.charCodeAt(0);
  KNOWN_STRINGS.set(key, [...(KNOWN_STRINGS.get(key) ?? []), s]);
}

function knownString(bytes: Uint8Array, start: number, end: number): string | undefined {
  const candidates = KNOWN_STRINGS.get(((end - start) << 8) | bytes[start]!);
  if (candidates === undefined) return undefined;
  next: for (const s of candidates) {
    for (let i = 1; i < s.length; i++) if (s.charCodeAt(i) !== bytes[start + i]) continue next;
    return s;
  }
  return undefined;
}

// Huffman output lands here before it becomes a string. One buffer serves every
// decoder: decoding is synchronous, so no two decodes ever use it at once.
let huffmanScratch = new Uint8Array(256);
// Given only ASCII (see latin1 below), UTF-8 decoding is Latin-1 decoding.
// TextDecoder("latin1") is no shortcut for the rest: it is windows-1252 on
// Bun and Deno, and turns 0x80-0x9f into other characters.
const asciiDecoder = new TextDecoder();

/**
 * Bytes as a string of the same char codes (Latin-1). Measured on Bun 1.4.5, a
 * String.fromCharCode loop and TextDecoder are even at ~8 bytes, and the loop
 * loses above (~250 vs ~150 ns at 13 bytes, ~1200 vs ~200 ns at 64); below, the
 * subarray view TextDecoder needs is most of its cost. Bytes from 0x80 (obs-text)
 * take the loop so that they keep their code points.
 */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  if (end - start >= 8) {
    let i = start;
    while (i < end && bytes[i]! < 0x80) i++;
    if (i === end) return asciiDecoder.decode(bytes.subarray(start, end));
  }
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

function decodeError(message: string): HpackError {
  return new HpackError("ERR_HPACK_DECODE", message);
}

/**
 * Decodes the header blocks of one HTTP/2 connection, in the order they
 * arrive: the dynamic table carries from one block to the next.
 *
 * @example
 * ```ts
 * const decoder = new HpackDecoder(); // we advertise SETTINGS_HEADER_TABLE_SIZE 4096
 * decoder.decode(Uint8Array.of(0x82, 0x84)); // [[":method", "GET"], [":path", "/"]]
 * ```
 */
export class HpackDecoder {
  readonly #maxTableSize: number;
  readonly #maxHeaderListSize: number;
  /** The table's size limit as the peer last set it, at most #maxTableSize. */
  #capacity: number;
  #size = 0;
  // The dynamic table is a ring of parallel arrays: #head is the next slot to
  // write, the newest entry sits just before it. Every entry takes at least 32
  // octets, so #maxTableSize / 32 slots always suffice.
  readonly #names: string[];
  readonly #values: string[];
  readonly #slots: number;
  #head = 0;
  #count = 0;
  #src = EMPTY;
  #pos = 0;
  #broken = false;

  /**
   * @param maxTableSize the SETTINGS_HEADER_TABLE_SIZE we advertised (RFC 9113 6.5.2); the peer may not set a larger table.
   * @param maxHeaderListSize the largest header list accepted, counted as name + value + 32 octets per field.
   */
  constructor(maxTableSize = 4096, maxHeaderListSize = 64 * 1024) {
    this.#maxTableSize = maxTableSize;
    this.#maxHeaderListSize = maxHeaderListSize;
    this.#capacity = maxTableSize;
    this.#slots = Math.max(1, Math.floor(maxTableSize / ENTRY_OVERHEAD));
    this.#names = new Array<string>(this.#slots).fill("");
    this.#values = new Array<string>(this.#slots).fill("");
  }

  /** The dynamic table's size in octets, as RFC 7541 4.1 counts it. */
  get tableSize(): number {
    return this.#size;
  }

  /** The dynamic table, newest first (index 62 first); for tests and diagnostics. */
  tableEntries(): [name: string, value: string][] {
    const entries: [string, string][] = [];
    for (let i = 1; i <= this.#count; i++) {
      const slot = (this.#head - i + this.#slots) % this.#slots;
      entries.push([this.#names[slot]!, this.#values[slot]!]);
    }
    return entries;
  }

  /**
   * Decodes one complete header block (a HEADERS frame's fragment joined with
   * its CONTINUATIONs). Names come back as sent; whether a field was marked
   * never-indexed is not kept, since nothing here re-encodes headers.
   * After an `ERR_HPACK_DECODE` the table is out of step with the peer's, so
   * every later call throws too.
   */
  decode(block: Uint8Array): [name: string, value: string][] {
    if (this.#broken) throw decodeError("HPACK decoder used after an earlier decoding error");
    this.#src = block;
    this.#pos = 0;
    try {
      return this.#decodeFields();
    } catch (e) {
      if (e instanceof HpackError && e.code === "ERR_HPACK_DECODE") this.#broken = true;
      throw e;
    } finally {
      this.#src = EMPTY; // the block is the caller's buffer; do not keep it alive
    }
  }

  #decodeFields(): [string, string][] {
    const src = this.#src;
    const headers: [string, string][] = [];
    let listSize = 0;
    while (this.#pos < src.length) {
      const at = this.#pos;
      const first = src[at]!;
      let name: string;
      let value: string;
      if (first & 0x80) {
        // Indexed field (RFC 7541 6.1).
        const index = this.#integer(7);
        if (index === 0) throw decodeError(`HPACK index 0 at offset ${at}`);
        if (index <= STATIC_COUNT) {
          name = STATIC_NAMES[index]!;
          value = STATIC_VALUES[index]!;
        } else {
          const slot = this.#slot(index, at);
          name = this.#names[slot]!;
          value = this.#values[slot]!;
        }
      } else if (first & 0x40) {
        // Literal with incremental indexing (6.2.1).
        const index = this.#integer(6);
        name = index === 0 ? this.#string() : this.#nameAt(index, at);
        value = this.#string();
        this.#insert(name, value);
      } else if (first & 0x20) {
        // Dynamic table size update (6.3): only before the block's first field (4.2).
        if (listSize > 0) throw decodeError(`HPACK table size update after a header field at offset ${at}`);
        const capacity = this.#integer(5);
        if (capacity > this.#maxTableSize) {
          throw decodeError(`HPACK table size update to ${capacity} over the advertised ${this.#maxTableSize} at offset ${at}`);
        }
        this.#capacity = capacity;
        this.#evictTo(capacity);
        continue;
      } else {
        // Literal without indexing (6.2.2) or never indexed (6.2.3): the same to a decoder.
        const index = this.#integer(4);
        name = index === 0 ? this.#string() : this.#nameAt(index, at);
        value = this.#string();
      }
      // Past the limit the block is still decoded to the end, so that the
      // table stays in step and only this stream need be refused.
      listSize += name.length + value.length + ENTRY_OVERHEAD;
      if (listSize <= this.#maxHeaderListSize) headers.push([name, value]);
    }
    if (listSize > this.#maxHeaderListSize) {
      throw new HpackError("ERR_HPACK_HEADER_LIST_SIZE", `header list of ${listSize} octets over the limit of ${this.#maxHeaderListSize}`);
    }
    return headers;
  }

  /** Reads an integer with an N-bit prefix (RFC 7541 5.1). */
  #integer(prefixBits: number): number {
    const src = this.#src;
    let pos = this.#pos;
    if (pos >= src.length) throw decodeError(`HPACK block truncated at offset ${pos}`);
    const mask = (1 << prefixBits) - 1;
    let value = src[pos++]! & mask;
    if (value === mask) {
      let byte: number;
      let shift = 0;
      do {
        if (pos >= src.length) throw decodeError(`HPACK block truncated in an integer at offset ${pos}`);
        // Five continuation bytes reach 2^35: enough for any real value, and still exact as a double.
        if (shift > 28) throw decodeError(`HPACK integer longer than 5 continuation bytes at offset ${this.#pos}`);
        byte = src[pos++]!;
        value += (byte & 0x7f) * 2 ** shift;
        shift += 7;
      } while (byte & 0x80);
      if (value > MAX_INTEGER) throw decodeError(`HPACK integer ${value} too large at offset ${this.#pos}`);
    }
    this.#pos = pos;
    return value;
  }

  /** Reads a string literal (RFC 7541 5.2), raw or Huffman-coded. */
  #string(): string {
    const src = this.#src;
    const huffman = this.#pos < src.length && (src[this.#pos]! & 0x80) !== 0;
    const length = this.#integer(7);
    const start = this.#pos;
    const end = start + length;
    if (end > src.length) throw decodeError(`HPACK string of ${length} octets at offset ${start} overruns the ${src.length}-octet block`);
    this.#pos = end;
    if (!huffman) return knownString(src, start, end) ?? latin1(src, start, end);
    const room = huffmanMaxDecodedLength(length);
    if (huffmanScratch.length < room) huffmanScratch = new Uint8Array(Math.max(room, 2 * huffmanScratch.length));
    const n = huffmanDecode(src, start, end, huffmanScratch);
    if (n < 0) {
      const why = n === HUFFMAN_EOS ? "contains EOS" : n === HUFFMAN_PADDING_TOO_LONG ? "has more than 7 bits of padding" : "has padding that is not all 1s";
      throw decodeError(`HPACK Huffman string at offset ${start} ${why}`);
    }
    return knownString(huffmanScratch, 0, n) ?? latin1(huffmanScratch, 0, n);
  }

  #nameAt(index: number, at: number): string {
    return index <= STATIC_COUNT ? STATIC_NAMES[index]! : this.#names[this.#slot(index, at)]!;
  }

  /** The ring slot of a dynamic-table index (62 = newest). */
  #slot(index: number, at: number): number {
    const age = index - STATIC_COUNT;
    if (age > this.#count) {
      throw decodeError(`HPACK index ${index} out of range (dynamic table holds ${this.#count} entries) at offset ${at}`);
    }
    return (this.#head - age + this.#slots) % this.#slots;
  }

  #insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    // RFC 7541 4.4: an entry larger than the table empties it and is not added.
    this.#evictTo(this.#capacity - size);
    if (size > this.#capacity) return;
    this.#names[this.#head] = name;
    this.#values[this.#head] = value;
    this.#head = (this.#head + 1) % this.#slots;
    this.#count++;
    this.#size += size;
  }

  /** Evicts the oldest entries until the table's size is at most `limit`. */
  #evictTo(limit: number): void {
    while (this.#count > 0 && this.#size > limit) {
      const oldest = (this.#head - this.#count + this.#slots) % this.#slots;
      this.#size -= this.#names[oldest]!.length + this.#values[oldest]!.length + ENTRY_OVERHEAD;
      this.#names[oldest] = ""; // let the strings go
      this.#values[oldest] = "";
      this.#count--;
    }
  }
}

// Encoded blocks are built here and copied out, so a block costs one allocation.
let encodeScratch = new Uint8Array(1024);

/**
 * Encodes header lists without the dynamic table: a static-table match is one
 * indexed byte, anything else a literal without indexing with raw strings.
 * Nothing is remembered between blocks, so the peer's table size setting never
 * matters. Names must already be lower case (RFC 9113 8.2.1); that is the
 * caller's job, as is leaving out connection-specific fields.
 *
 * @example
 * ```ts
 * new HpackEncoder().encode([[":status", "200"]]); // Uint8Array [0x88]
 * ```
 */
export class HpackEncoder {
  /** One header block for `headers`, in order; throws `ERR_HPACK_ENCODE` for a character above U+00FF. */
  encode(headers: Iterable<readonly [string, string]>): Uint8Array {
    let out = encodeScratch;
    let pos = 0;
    for (const [name, value] of headers) {
      // At most: a first byte, two lengths of up to 6 bytes each, the two strings.
      const need = pos + 18 + name.length + value.length;
      if (need > out.length) {
        const bigger = new Uint8Array(Math.max(need, 2 * out.length));
        bigger.set(out.subarray(0, pos));
        out = encodeScratch = bigger;
      }
      const nameIndex = STATIC_NAME_INDEX.get(name);
      if (nameIndex === undefined) {
        out[pos++] = 0x00;
        pos = writeString(out, pos, name);
      } else {
        let exact = nameIndex;
        while (exact <= STATIC_COUNT && STATIC_NAMES[exact] === name && STATIC_VALUES[exact] !== value) exact++;
        if (exact <= STATIC_COUNT && STATIC_NAMES[exact] === name) {
          pos = writeInteger(out, pos, exact, 7, 0x80);
          continue;
        }
        pos = writeInteger(out, pos, nameIndex, 4, 0x00);
      }
      pos = writeString(out, pos, value);
    }
    return out.slice(0, pos);
  }
}

/** Writes an integer with an N-bit prefix after the `flags` bits (RFC 7541 5.1). */
function writeInteger(out: Uint8Array, pos: number, value: number, prefixBits: number, flags: number): number {
  const mask = (1 << prefixBits) - 1;
  if (value < mask) {
    out[pos++] = flags | value;
    return pos;
  }
  out[pos++] = flags | mask;
  value -= mask;
  while (value >= 0x80) {
    out[pos++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[pos++] = value;
  return pos;
}

/** Writes a raw (not Huffman-coded) string literal. */
function writeString(out: Uint8Array, pos: number, s: string): number {
  pos = writeInteger(out, pos, s.length, 7, 0x00);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new HpackError("ERR_HPACK_ENCODE", `header ${JSON.stringify(s)} holds U+${c.toString(16).padStart(4, "0")}, not a Latin-1 octet`);
    out[pos++] = c;
  }
  return pos;
}
