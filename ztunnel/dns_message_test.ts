import { describe, expect, test } from "bun:test";
import { DnsRcode, DnsType, encodeQuery, encodeResponse, MAX_QUERY_BYTES, parseQuery } from "./dns_message.ts";

const hello = encodeQuery(0x1234, "Hello.Demo.svc.cluster.local.", DnsType.A);
const header = (flags: number, qd: number, an = 0) => Uint8Array.from([0xab, 0xcd, flags >> 8, flags & 0xff, 0, qd, 0, an, 0, 0, 0, 0]);
const withQuestion = (h: Uint8Array, name: number[]) => Uint8Array.from([...h, ...name, 0, 1, 0, 1]);

describe("parseQuery", () => {
  test("a stub resolver's A query, name lower-cased", () => {
    const r = parseQuery(hello);
    expect(r.kind).toBe("query");
    if (r.kind !== "query") return;
    expect(r.query).toMatchObject({ id: 0x1234, recursionDesired: true, question: { name: "hello.demo.svc.cluster.local", type: 1, class: 1 } });
    expect(r.query.questionBytes.length).toBe(hello.length - 12);
  });

  const label64 = [64, ...Array(64).fill(0x61)];
  const longName = Array.from({ length: 5 }, () => [60, ...Array(60).fill(0x62)]).flat();
  test.each([
    ["shorter than a header", new Uint8Array(11), "drop"],
    ["larger than the limit", new Uint8Array(MAX_QUERY_BYTES + 1), "drop"],
    ["a response (QR set)", withQuestion(header(0x8100, 1), [1, 0x61, 0]), "drop"],
    ["opcode 2 (status)", withQuestion(header(0x1000, 1), [1, 0x61, 0]), DnsRcode.notImp],
    ["no question", header(0x0100, 0), DnsRcode.formErr],
    ["two questions", withQuestion(header(0x0100, 2), [1, 0x61, 0]), DnsRcode.formErr],
    ["answers in a query", withQuestion(header(0x0100, 1, 1), [1, 0x61, 0]), DnsRcode.formErr],
    ["a compression pointer", withQuestion(header(0x0100, 1), [0xc0, 0x0c]), DnsRcode.formErr],
    ["a pointer loop to itself", Uint8Array.from([...header(0x0100, 1), 0xc0, 12]), DnsRcode.formErr],
    ["a 64-byte label", withQuestion(header(0x0100, 1), [...label64, 0]), DnsRcode.formErr],
    ["a name over 255 bytes", withQuestion(header(0x0100, 1), [...longName, 0]), DnsRcode.formErr],
    ["a label past the end", Uint8Array.from([...header(0x0100, 1), 9, 0x61]), DnsRcode.formErr],
    ["no terminating label", Uint8Array.from([...header(0x0100, 1), 1, 0x61]), DnsRcode.formErr],
    ["a question without type and class", Uint8Array.from([...header(0x0100, 1), 1, 0x61, 0, 0]), DnsRcode.formErr],
  ])("refuses %s", (_, bytes, want) => {
    const r = parseQuery(bytes);
    if (want === "drop") expect(r.kind).toBe("drop");
    else expect(r).toMatchObject({ kind: "error", id: 0xabcd, rcode: want });
  });

  test("never throws on random bytes", () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    for (let n = 0; n < 2000; n++) {
      const b = Uint8Array.from({ length: rand() % 80 }, rand);
      if (b.length > 2) b[2]! &= 0x7f;
      expect(() => parseQuery(b)).not.toThrow();
    }
  });
});

describe("encodeResponse", () => {
  const q = parseQuery(hello);
  if (q.kind !== "query") throw new Error("fixture");
  const a = (i: number) => ({ type: DnsType.A, ttl: 30, data: Uint8Array.from([10, 96, 0, i]) });

  test("answers point at the question's name", () => {
    const out = encodeResponse({ id: 0x1234, recursionDesired: true, rcode: 0, authoritative: true, questionBytes: q.query.questionBytes, answers: [a(1)] });
    const v = new DataView(out.buffer);
    expect(v.getUint16(0)).toBe(0x1234);
    expect(v.getUint16(2)).toBe(0x8580); // QR AA RD RA
    expect([v.getUint16(4), v.getUint16(6)]).toEqual([1, 1]);
    const rr = 12 + q.query.questionBytes.length;
    expect([...out.subarray(rr, rr + 12)]).toEqual([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4]);
    expect([...out.subarray(rr + 12)]).toEqual([10, 96, 0, 1]);
  });

  test("truncates within the limit and sets TC", () => {
    const answers = Array.from({ length: 40 }, (_, i) => a(i));
    const out = encodeResponse({ id: 1, recursionDesired: true, rcode: 0, authoritative: true, questionBytes: q.query.questionBytes, answers });
    expect(out.length).toBeLessThanOrEqual(512);
    expect(new DataView(out.buffer).getUint16(2) & 0x0200).toBe(0x0200);
  });

  test("an error without a question", () => {
    const out = encodeResponse({ id: 9, recursionDesired: false, rcode: DnsRcode.formErr, authoritative: false, answers: [] });
    expect([...out]).toEqual([0, 9, 0x80, 0x81, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
});
