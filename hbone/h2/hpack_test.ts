import { describe, expect, test } from "bun:test";
import { AmbitError } from "../../errors/mod.ts";
import { HpackDecoder, HpackEncoder, HpackError, type HpackErrorCode } from "./hpack.ts";
import { huffmanEncode } from "./huffman.ts";

type Headers = [string, string][];
const fromHex = (hex: string) => Uint8Array.from(hex.replace(/\s/g, "").match(/../g) ?? [], (b) => parseInt(b, 16));
const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** One header block of an RFC 7541 Appendix C sequence, and the dynamic table after it. */
interface Step {
  block: string;
  headers: Headers;
  table: Headers;
  size: number;
}

const request1: Headers = [[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "www.example.com"]];
const request2: Headers = [...request1, ["cache-control", "no-cache"]];
const request3: Headers = [[":method", "GET"], [":scheme", "https"], [":path", "/index.html"], [":authority", "www.example.com"], ["custom-key", "custom-value"]];
/** C.3 and C.4 code the same three requests, raw and Huffman: what each decodes to, and the table after it. */
const requests: Omit<Step, "block">[] = [
  { headers: request1, table: [[":authority", "www.example.com"]], size: 57 },
  { headers: request2, table: [["cache-control", "no-cache"], [":authority", "www.example.com"]], size: 110 },
  { headers: request3, table: [["custom-key", "custom-value"], ["cache-control", "no-cache"], [":authority", "www.example.com"]], size: 164 },
];

const date21 = "Mon, 21 Oct 2013 20:13:21 GMT";
const date22 = "Mon, 21 Oct 2013 20:13:22 GMT";
const site = "https://www.example.com";
const cookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
const response1: Headers = [[":status", "302"], ["cache-control", "private"], ["date", date21], ["location", site]];
const response2: Headers = [[":status", "307"], ["cache-control", "private"], ["date", date21], ["location", site]];
const response3: Headers = [[":status", "200"], ["cache-control", "private"], ["date", date22], ["location", site], ["content-encoding", "gzip"], ["set-cookie", cookie]];
/** C.5 and C.6 likewise, for three responses in a 256-octet table that evicts. */
const responses: Omit<Step, "block">[] = [
  { headers: response1, table: [["location", site], ["date", date21], ["cache-control", "private"], [":status", "302"]], size: 222 },
  { headers: response2, table: [[":status", "307"], ["location", site], ["date", date21], ["cache-control", "private"]], size: 222 },
  { headers: response3, table: [["set-cookie", cookie], ["content-encoding", "gzip"], ["date", date22]], size: 215 },
];
const coded = (blocks: string[], results: Omit<Step, "block">[]): Step[] => blocks.map((block, i) => ({ block, ...results[i]! }));

const sequences: [name: string, tableSize: number, steps: Step[]][] = [
  ["C.2.1 literal with indexing", 4096, [{ block: "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572", headers: [["custom-key", "custom-header"]], table: [["custom-key", "custom-header"]], size: 55 }]],
  ["C.2.2 literal without indexing", 4096, [{ block: "040c 2f73 616d 706c 652f 7061 7468", headers: [[":path", "/sample/path"]], table: [], size: 0 }]],
  ["C.2.3 literal never indexed", 4096, [{ block: "1008 7061 7373 776f 7264 0673 6563 7265 74", headers: [["password", "secret"]], table: [], size: 0 }]],
  ["C.2.4 indexed", 4096, [{ block: "82", headers: [[":method", "GET"]], table: [], size: 0 }]],
  ["C.3 requests without Huffman", 4096, coded([
    "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
    "8286 84be 5808 6e6f 2d63 6163 6865",
    "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
  ], requests)],
  ["C.4 requests with Huffman", 4096, coded([
    "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
    "8286 84be 5886 a8eb 1064 9cbf",
    "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
  ], requests)],
  ["C.5 responses without Huffman, evicting at 256", 256, coded([
    "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
    "4803 3330 37c1 c0bf",
    "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31",
  ], responses)],
  ["C.6 responses with Huffman, evicting at 256", 256, coded([
    "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
    "4883 640e ffc1 c0bf",
    "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
  ], responses)],
  // From python3-hpack 4.0.0 (what python-h2 sends), one Encoder for both blocks:
  // hpack.Encoder().encode([(':method','CONNECT'),(':authority','10.0.0.1:8080'),('baggage','k8s.namespace.name=default')]).hex()
  // then the same three fields again with traceparent and forwarded added. It Huffman-codes and indexes
  // everything, so the second block refers back to the first three entries as c0 bf be.
  ["a CONNECT from python3-hpack", 4096, [
    {
      block: "4287bdab4e9c17b7ff4189081702e05c371e03c040858c734c398b93eaf217a87495158c855ea1d258242ca3b684ff",
      headers: [[":method", "CONNECT"], [":authority", "10.0.0.1:8080"], ["baggage", "k8s.namespace.name=default"]],
      table: [["baggage", "k8s.namespace.name=default"], [":authority", "10.0.0.1:8080"], [":method", "CONNECT"]],
      size: 65 + 55 + 46,
    },
    {
      block: "c0bfbe40884d83216b1d85a93fa7001600e575c6c2f85c248d33248f34d3c58c41091e03217c8b46e8e4723742e3e2032cb215801f408794f6781d92164fab94f641fc840b81702e2b8d044cb5fcfdce74260b0bdcc5f085e42ca3b684ae8ee45c945a8496c5e8390747",
      headers: [
        [":method", "CONNECT"], [":authority", "10.0.0.1:8080"], ["baggage", "k8s.namespace.name=default"],
        ["traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"],
        ["forwarded", `for="10.0.0.2:41234";host=reviews.default.svc.cluster.local`],
      ],
      table: [
        ["forwarded", `for="10.0.0.2:41234";host=reviews.default.svc.cluster.local`],
        ["traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"],
        ["baggage", "k8s.namespace.name=default"], [":authority", "10.0.0.1:8080"], [":method", "CONNECT"],
      ],
      size: 65 + 55 + 46 + 98 + 100,
    },
  ]],
];

describe("decodes RFC 7541 Appendix C and a real peer", () => {
  for (const [name, tableSize, steps] of sequences) {
    test(name, () => {
      const decoder = new HpackDecoder(tableSize);
      for (const step of steps) {
        expect(decoder.decode(fromHex(step.block))).toEqual(step.headers);
        expect(decoder.tableEntries()).toEqual(step.table);
        expect(decoder.tableSize).toBe(step.size);
      }
    });
  }
});

/** A raw string literal, for blocks built by hand (lengths under 127). */
const str = (s: string) => [s.length, ...latin1(s)];
/** The same, Huffman-coded. */
const huff = (s: string) => {
  const coded = huffmanEncode(latin1(s));
  return [0x80 | coded.length, ...coded];
};

describe("dynamic table", () => {
  test("size updates at the start of a block evict, and several may follow each other", () => {
    const decoder = new HpackDecoder();
    decoder.decode(fromHex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"));
    decoder.decode(fromHex("8286 84be 5886 a8eb 1064 9cbf"));
    expect(decoder.tableSize).toBe(110);
    expect(decoder.decode(fromHex("3f1a 82"))).toEqual([[":method", "GET"]]); // to 31 + 26 = 57: the older entry goes
    expect(decoder.tableEntries()).toEqual([["cache-control", "no-cache"]]);
    expect(decoder.decode(fromHex("20 3fe11f 82"))).toEqual([[":method", "GET"]]); // to 0, then back to 4096
    expect(decoder.tableEntries()).toEqual([]);
    expect(decoder.tableSize).toBe(0);
  });

  test("an entry larger than the table empties it and is not added", () => {
    const decoder = new HpackDecoder(64);
    decoder.decode(Uint8Array.of(0x40, ...str("custom-key"), ...str("custom-header")));
    expect(decoder.tableSize).toBe(55);
    const big = "x".repeat(40);
    expect(decoder.decode(Uint8Array.of(0x40, ...str("custom-key"), ...str(big)))).toEqual([["custom-key", big]]);
    expect(decoder.tableEntries()).toEqual([]);
  });

  test("a new entry may take its name from the entry its insertion evicts (RFC 7541 4.4)", () => {
    const decoder = new HpackDecoder(100);
    decoder.decode(Uint8Array.of(0x40, ...str("aaaa"), ...str("x".repeat(50)))); // 86 octets
    expect(decoder.decode(Uint8Array.of(0x7e, ...str("y".repeat(30))))).toEqual([["aaaa", "y".repeat(30)]]);
    expect(decoder.tableEntries()).toEqual([["aaaa", "y".repeat(30)]]);
    expect(decoder.tableSize).toBe(66);
  });

  test("the ring wraps: many insertions keep the newest entries in order", () => {
    const decoder = new HpackDecoder(256);
    for (let i = 0; i < 100; i++) decoder.decode(Uint8Array.of(0x40, ...str(`k${i % 10}`), ...str(`value-${i}`)));
    // Each entry is 2 + 7 or 8 + 32 octets; at most 256 keep the newest six.
    expect(decoder.tableEntries()).toEqual([99, 98, 97, 96, 95, 94].map((i) => [`k${i % 10}`, `value-${i}`]));
    expect(decoder.decode(Uint8Array.of(0xbe, 0xc3))).toEqual([["k9", "value-99"], ["k4", "value-94"]]);
  });
});

describe("strings", () => {
  test("a literal that is almost a known string is not taken for it", () => {
    // The decoder hands out known strings (static names and values, HBONE's names) by matching bytes.
    const fields: Headers = [["baggage", "CONNECT"], ["baggagf", "CONNECX"], ["forwarded", "gzip, deflatf"], ["x", "https"]];
    const raw = fields.flatMap(([name, value]) => [0x00, ...str(name), ...str(value)]);
    const coded = fields.flatMap(([name, value]) => [0x00, ...huff(name), ...huff(value)]);
    expect(new HpackDecoder().decode(Uint8Array.from(raw))).toEqual(fields);
    expect(new HpackDecoder().decode(Uint8Array.from(coded))).toEqual(fields);
  });

  test("non-ASCII octets keep their Latin-1 code points, raw or Huffman-coded", () => {
    const value = "caf\xe9 \x80\x9f\xff ok";
    const block = Uint8Array.of(0x00, ...str("x-raw"), ...str(value), 0x00, ...str("x-huff"), ...huff(value));
    expect(new HpackDecoder().decode(block)).toEqual([["x-raw", value], ["x-huff", value]]);
  });
});

describe("encoder", () => {
  const encoder = new HpackEncoder();
  const cases: [string, Headers, string][] = [
    [":status 200 is indexed", [[":status", "200"]], "88"],
    [":method GET is indexed", [[":method", "GET"]], "82"],
    [":method CONNECT takes the static name", [[":method", "CONNECT"]], "02 07 434f4e4e454354"],
    [":authority takes static index 1", [[":authority", "10.0.0.1:8080"]], "01 0d 31302e302e302e313a38303830"],
    ["a name not in the static table is a literal", [["baggage", "a=b"]], "00 07 62616767616765 03 613d62"],
    ["index 15 spills into a second byte", [["accept-charset", "x"]], "0f00 01 78"],
    ["an empty list is an empty block", [], ""],
  ];
  for (const [name, headers, hex] of cases) {
    test(name, () => expect(encoder.encode(headers)).toEqual(fromHex(hex)));
  }

  test("round trips through the decoder, long values and many headers included", () => {
    const headers: Headers = [
      [":method", "CONNECT"], [":authority", "[fd00::5]:443"], [":status", "204"], ["accept-encoding", "gzip, deflate"],
      ["traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"], ["x-long", "v".repeat(5000)], ["x-empty", ""],
      ["x-latin1", "caf\xe9"], ...Array.from({ length: 200 }, (_, i): [string, string] => [`x-${i}`, `${i}`]),
    ];
    const decoder = new HpackDecoder();
    expect(decoder.decode(encoder.encode(headers))).toEqual(headers);
    expect(decoder.decode(encoder.encode(headers.slice(0, 3)))).toEqual(headers.slice(0, 3)); // the big one left no trace
    expect(decoder.tableSize).toBe(0);
  });

  test("refuses a character that is not one octet", () => {
    expect(() => encoder.encode([["x-name", "snow\u2603man"]])).toThrow(expect.objectContaining({ code: "ERR_HPACK_ENCODE" }));
  });
});

describe("rejects malformed blocks", () => {
  const rejections: [name: string, block: number[], code: HpackErrorCode, message: RegExp, decoder?: () => HpackDecoder][] = [
    ["a string cut short", [0x04, 0x0c, ...latin1("/sam")], "ERR_HPACK_DECODE", /string of 12 octets at offset 2 overruns/],
    ["a field without its value", [0x04], "ERR_HPACK_DECODE", /truncated at offset 1/],
    ["an integer without its continuation byte", [0xff], "ERR_HPACK_DECODE", /truncated in an integer/],
    ["an integer whose last byte says more follows", [0xff, 0x80], "ERR_HPACK_DECODE", /truncated in an integer/],
    ["indexed field 0", [0x80], "ERR_HPACK_DECODE", /index 0 at offset 0/],
    ["an index past an empty dynamic table", [0x82, 0xbe], "ERR_HPACK_DECODE", /index 62 out of range \(dynamic table holds 0 entries\) at offset 1/],
    ["a name index past the table", [0x7f, 0x00, ...str("v")], "ERR_HPACK_DECODE", /index 63 out of range/],
    ["an integer over 2^31 - 1", [0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], "ERR_HPACK_DECODE", /integer \d+ too large/],
    ["an integer padded with zero continuations", [0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], "ERR_HPACK_DECODE", /longer than 5 continuation bytes/],
    ["a string length over 2^31 - 1", [0x01, 0x7f, 0xff, 0xff, 0xff, 0xff, 0x0f], "ERR_HPACK_DECODE", /integer \d+ too large/],
    ["Huffman: EOS in the string", [0x01, 0x84, 0xff, 0xff, 0xff, 0xff], "ERR_HPACK_DECODE", /Huffman string at offset 2 contains EOS/],
    ["Huffman: padding longer than 7 bits", [0x01, 0x82, 0x1f, 0xff], "ERR_HPACK_DECODE", /more than 7 bits of padding/],
    ["Huffman: padding that is not all 1s", [0x01, 0x81, 0x18], "ERR_HPACK_DECODE", /padding that is not all 1s/],
    ["a table size update over what we advertised", [0x3f, 0xe2, 0x1f], "ERR_HPACK_DECODE", /size update to 4097 over the advertised 4096/],
    ["a table size update over a smaller setting", [0x3f, 0xe2, 0x01], "ERR_HPACK_DECODE", /size update to 257 over the advertised 256/, () => new HpackDecoder(256)],
    ["a table size update after a field", [0x82, 0x20], "ERR_HPACK_DECODE", /size update after a header field at offset 1/],
    ["a header list over the limit", [0x82, 0x84, 0x86], "ERR_HPACK_HEADER_LIST_SIZE", /header list of 123 octets over the limit of 100/, () => new HpackDecoder(4096, 100)],
  ];
  for (const [name, block, code, message, decoder] of rejections) {
    test(name, () => {
      let thrown: unknown;
      try {
        (decoder?.() ?? new HpackDecoder()).decode(Uint8Array.from(block));
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(HpackError);
      expect(thrown).toBeInstanceOf(AmbitError);
      expect((thrown as HpackError).code).toBe(code);
      expect((thrown as HpackError).message).toMatch(message);
    });
  }

  test("the size update limit is inclusive", () => {
    expect(new HpackDecoder().decode(Uint8Array.of(0x3f, 0xe1, 0x1f))).toEqual([]);
  });

  test("a decoder refuses every block after a decoding error: its table is out of step", () => {
    const decoder = new HpackDecoder();
    expect(() => decoder.decode(Uint8Array.of(0x80))).toThrow(/index 0/);
    expect(() => decoder.decode(Uint8Array.of(0x82))).toThrow(/after an earlier decoding error/);
  });

  test("an oversized header list is still decoded to the end, so the next block works", () => {
    const decoder = new HpackDecoder(4096, 100);
    const block = Uint8Array.of(0x40, ...str("custom-key"), ...str("custom-header"), 0xbe); // 55 + 55 octets
    expect(() => decoder.decode(block)).toThrow(expect.objectContaining({ code: "ERR_HPACK_HEADER_LIST_SIZE" }));
    expect(decoder.decode(Uint8Array.of(0xbe))).toEqual([["custom-key", "custom-header"]]);
  });

  test("a small block that repeats one big entry is stopped by the header list limit", () => {
    const decoder = new HpackDecoder();
    const big = "x".repeat(4000);
    const block = Uint8Array.of(0x40, ...str("x-big"), 0x7f, 0xa1, 0x1e, /* 127 + 0x21 + 0x1e << 7 = 4000 */ ...latin1(big), ...new Array<number>(20).fill(0xbe));
    expect(() => decoder.decode(block)).toThrow(expect.objectContaining({ code: "ERR_HPACK_HEADER_LIST_SIZE" }));
  });
});
