import { describe, expect, test } from "bun:test";
import {
  HUFFMAN_CODES,
  HUFFMAN_EOS,
  HUFFMAN_LENGTHS,
  HUFFMAN_PADDING_NOT_EOS,
  HUFFMAN_PADDING_TOO_LONG,
  huffmanDecode,
  huffmanEncode,
  huffmanMaxDecodedLength,
} from "./huffman.ts";

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const fromHex = (hex: string) => Uint8Array.from(hex.replace(/\s/g, "").match(/../g) ?? [], (b) => parseInt(b, 16));

function decode(src: Uint8Array): Uint8Array | number {
  const out = new Uint8Array(huffmanMaxDecodedLength(src.length));
  const n = huffmanDecode(src, 0, src.length, out);
  return n < 0 ? n : out.subarray(0, n);
}

describe("the code table", () => {
  // Rows of RFC 7541 Appendix B: symbol, code as hex, length in bits.
  const rows: [number, number, number][] = [
    [0, 0x1ff8, 13],
    [10, 0x3ffffffc, 30],
    [32, 0x14, 6], // ' '
    [48, 0x0, 5], // '0'
    [97, 0x3, 5], // 'a'
    [122, 0x7b, 7], // 'z'
    [255, 0x3ffffee, 26],
    [256, 0x3fffffff, 30], // EOS
  ];
  for (const [symbol, code, length] of rows) {
    test(`symbol ${symbol} is ${code.toString(16)} in ${length} bits`, () => {
      expect(HUFFMAN_CODES[symbol]).toBe(code);
      expect(HUFFMAN_LENGTHS[symbol]).toBe(length);
    });
  }

  test("is complete: the Kraft sum of 257 codes is exactly 1", () => {
    expect(HUFFMAN_LENGTHS.length).toBe(257);
    expect(HUFFMAN_LENGTHS.reduce((sum, length) => sum + 2 ** -length, 0)).toBe(1);
  });
});

describe("RFC 7541 C.4 and C.6 strings", () => {
  const examples: [string, string][] = [
    ["www.example.com", "f1e3 c2e5 f23a 6ba0 ab90 f4ff"],
    ["no-cache", "a8eb 1064 9cbf"],
    ["custom-key", "25a8 49e9 5ba9 7d7f"],
    ["custom-value", "25a8 49e9 5bb8 e8b4 bf"],
    ["302", "6402"],
    ["307", "640e ff"],
    ["private", "aec3 771a 4b"],
    ["Mon, 21 Oct 2013 20:13:21 GMT", "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff"],
    ["Mon, 21 Oct 2013 20:13:22 GMT", "d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff"],
    ["https://www.example.com", "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3"],
    ["gzip", "9bd9 ab"],
    ["foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1", "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07"],
  ];
  for (const [text, hex] of examples) {
    test(JSON.stringify(text), () => {
      expect(huffmanEncode(latin1(text))).toEqual(fromHex(hex));
      expect(decode(fromHex(hex))).toEqual(latin1(text));
    });
  }
});

describe("round trips", () => {
  test("every octet, alone and together", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (const byte of all) expect(decode(huffmanEncode(Uint8Array.of(byte)))).toEqual(Uint8Array.of(byte));
    expect(decode(huffmanEncode(all))).toEqual(all);
  });

  test("strings of every length mod 8, so padding of every width", () => {
    for (let n = 0; n < 64; n++) {
      const s = latin1("k8s.namespace.name=default,service.name=sleep,0123456789abcdefghijklmnop".slice(0, n));
      expect(decode(huffmanEncode(s))).toEqual(s);
    }
  });

  test("decodes a slice of a larger buffer", () => {
    const coded = fromHex("a8eb 1064 9cbf");
    const framed = Uint8Array.of(0xaa, ...coded, 0xbb);
    const out = new Uint8Array(huffmanMaxDecodedLength(coded.length));
    expect(huffmanDecode(framed, 1, 1 + coded.length, out)).toBe(8);
    expect(out.subarray(0, 8)).toEqual(latin1("no-cache"));
  });
});

describe("malformed strings (RFC 7541 5.2)", () => {
  const cases: [string, string, number][] = [
    ["EOS alone (30 1s, 2 bits of padding)", "ffff ffff", HUFFMAN_EOS],
    ["EOS after a symbol", "1fff ffff ff", HUFFMAN_EOS], // 'a' (00011) then 35 1s
    ["a full byte of padding", "ff", HUFFMAN_PADDING_TOO_LONG],
    ["11 bits of padding after 'a'", "1fff", HUFFMAN_PADDING_TOO_LONG],
    ["padding of 0s after 'a'", "18", HUFFMAN_PADDING_NOT_EOS],
    ["padding that mixes 0s and 1s", "1e", HUFFMAN_PADDING_NOT_EOS], // 00011 110
    ["a code cut off before its end", "fe", HUFFMAN_PADDING_NOT_EOS], // 11111110 starts a longer code
  ];
  for (const [name, hex, want] of cases) {
    test(name, () => expect(decode(fromHex(hex))).toBe(want));
  }

  test("an empty string is fine", () => expect(decode(new Uint8Array(0))).toEqual(new Uint8Array(0)));
  test("7 bits of padding are fine", () => expect(decode(fromHex("1f"))).toEqual(latin1("a"))); // 00011 111
});
