/**
 * The HPACK Huffman code (RFC 7541 Appendix B): a decoder for the header
 * blocks peers send us, and an encoder for tests and round trips.
 */

/**
 * Code length in bits of each symbol, 0–255 then EOS (256), from RFC 7541
 * Appendix B. Generated with python3-hpack 4.0.0:
 * `python3 -c "import hpack.huffman_constants as h; print(h.REQUEST_CODES_LENGTH)"`.
 * The RFC's code is canonical (codes of one length are consecutive, in symbol
 * order, and each length continues where the shorter one stopped), so the
 * lengths alone rebuild every code; at generation time the rebuilt codes were
 * checked equal to `h.REQUEST_CODES`, and huffman_test.ts checks rows of the RFC.
 */
const LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

const EOS = 256;

/** Each symbol's code (right-aligned), rebuilt canonically from {@link HUFFMAN_LENGTHS}. */
export const HUFFMAN_CODES: Uint32Array = canonicalCodes(LENGTHS);
/** Each symbol's code length in bits; index 256 is EOS. */
export const HUFFMAN_LENGTHS: Uint8Array = Uint8Array.from(LENGTHS);

function canonicalCodes(lengths: readonly number[]): Uint32Array {
  const order = lengths.map((_, symbol) => symbol).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const codes = new Uint32Array(lengths.length);
  let code = 0;
  let length = lengths[order[0]!]!;
  for (const symbol of order) {
    code <<= lengths[symbol]! - length; // `<<` keeps 32 bits and the longest code has 30
    length = lengths[symbol]!;
    codes[symbol] = code++;
  }
  return codes;
}

// The decoder walks the code tree four bits at a time, as nghttp2 does. A state
// is an internal node of the tree (a full binary tree over 257 leaves has 256 of
// them, the root is 0), so a state and a nibble index one entry of TRANSITIONS:
// bits 0–7 the next state, 8–15 the symbol completed on the way, then two flags.
// No code is shorter than five bits, so a nibble completes at most one symbol.
const EMIT = 1 << 16;
const FAIL = 1 << 17; // the nibble completed EOS, which may not appear in a string
const TRANSITIONS = new Uint32Array(256 * 16);
/** For a state reached by n 1-bits from the root, n; otherwise -1. Only such states may end a string. */
const ONES_DEPTH = new Int8Array(256).fill(-1);

{
  // children[2 * node + bit]: an internal node's id when > 0, a leaf as -(symbol + 1).
  const children = new Int16Array(512);
  let nodes = 1;
  for (let symbol = 0; symbol <= EOS; symbol++) {
    const code = HUFFMAN_CODES[symbol]!;
    let node = 0;
    for (let bit = HUFFMAN_LENGTHS[symbol]! - 1; bit > 0; bit--) {
      const slot = 2 * node + ((code >>> bit) & 1);
      if (children[slot] === 0) children[slot] = nodes++;
      node = children[slot]!;
    }
    children[2 * node + (code & 1)] = -(symbol + 1);
  }
  for (let node = 0, depth = 0; node >= 0; node = children[2 * node + 1]!, depth++) ONES_DEPTH[node] = depth;
  for (let state = 0; state < 256; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let entry = 0;
      for (let bit = 3; bit >= 0; bit--) {
        const child = children[2 * node + ((nibble >> bit) & 1)]!;
        if (child > 0) {
          node = child;
          continue;
        }
        const symbol = -child - 1;
        entry |= symbol === EOS ? FAIL : EMIT | (symbol << 8);
        node = 0;
      }
      TRANSITIONS[state * 16 + nibble] = entry | node;
    }
  }
}

/** {@link huffmanDecode} found the EOS symbol inside the string. */
export const HUFFMAN_EOS = -1;
/** {@link huffmanDecode} found more than 7 bits of padding after the last symbol. */
export const HUFFMAN_PADDING_TOO_LONG = -2;
/** {@link huffmanDecode} found padding that is not a prefix of EOS (all 1s). */
export const HUFFMAN_PADDING_NOT_EOS = -3;

/** The most bytes `length` Huffman-coded bytes can decode to (the shortest code is 5 bits). */
export function huffmanMaxDecodedLength(length: number): number {
  return Math.floor((length * 8) / 5);
}

/**
 * Decodes `src[start, end)` into `out` from index 0 and returns the number of
 * bytes written, or one of the negative `HUFFMAN_*` codes when the string is
 * malformed (RFC 7541 5.2). It returns a number rather than throwing so the
 * caller names the failure in its own error type, without an allocation here.
 * `out` must hold {@link huffmanMaxDecodedLength}`(end - start)` bytes.
 *
 * @example
 * ```ts
 * const src = Uint8Array.of(0xa8, 0xeb, 0x10, 0x64, 0x9c, 0xbf);
 * const out = new Uint8Array(huffmanMaxDecodedLength(src.length));
 * const n = huffmanDecode(src, 0, src.length, out); // 8: out holds "no-cache"
 * ```
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number, out: Uint8Array): number {
  let state = 0;
  let n = 0;
  for (let i = start; i < end; i++) {
    const byte = src[i]!;
    let entry = TRANSITIONS[(state << 4) | (byte >> 4)]!;
    if (entry & EMIT) out[n++] = entry >> 8;
    else if (entry & FAIL) return HUFFMAN_EOS;
    entry = TRANSITIONS[((entry & 0xff) << 4) | (byte & 0xf)]!;
    if (entry & EMIT) out[n++] = entry >> 8;
    else if (entry & FAIL) return HUFFMAN_EOS;
    state = entry & 0xff;
  }
  const padding = ONES_DEPTH[state]!;
  if (padding < 0) return HUFFMAN_PADDING_NOT_EOS;
  return padding > 7 ? HUFFMAN_PADDING_TOO_LONG : n;
}

/**
 * Huffman-codes `src`, padding the last byte with the start of EOS (1s).
 *
 * @example
 * ```ts
 * huffmanEncode(new TextEncoder().encode("no-cache")); // a8 eb 10 64 9c bf
 * ```
 */
export function huffmanEncode(src: Uint8Array): Uint8Array {
  let bits = 0;
  for (const byte of src) bits += HUFFMAN_LENGTHS[byte]!;
  const out = new Uint8Array(Math.ceil(bits / 8));
  let n = 0;
  let pending = 0; // fewer than 8 bits not yet written, right-aligned
  let pendingBits = 0;
  for (const byte of src) {
    const code = HUFFMAN_CODES[byte]!;
    let length = HUFFMAN_LENGTHS[byte]!;
    while (length > 0) {
      const take = Math.min(length, 8 - pendingBits);
      pending = (pending << take) | ((code >>> (length - take)) & ((1 << take) - 1));
      pendingBits += take;
      length -= take;
      if (pendingBits === 8) {
        out[n++] = pending;
        pending = 0;
        pendingBits = 0;
      }
    }
  }
  if (pendingBits > 0) out[n] = (pending << (8 - pendingBits)) | (0xff >> pendingBits);
  return out;
}
