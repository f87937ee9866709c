// Table tests for the VIP allocator: deterministic, in range, probing on collision.
import { expect, test } from "bun:test";
import { TranslateError } from "./errors.ts";
import { DEFAULT_VIP_RANGE, vipAllocator } from "./vip_allocator.ts";

const keys = Array.from({ length: 200 }, (_, i) => `ns${i % 7}/svc-${i}.example.com`);

test("vipAllocator: the same key gets the same VIP, on every call and from every allocator", () => {
  const a = vipAllocator();
  const b = vipAllocator();
  for (const k of keys) expect(a(k)).toBe(b(k));
  for (const k of keys) expect(a(k)).toBe(b(k));
  expect(a.cidr).toBe(DEFAULT_VIP_RANGE);
});

test("vipAllocator: VIPs are distinct and inside the range, never its network or broadcast address", () => {
  const a = vipAllocator();
  const vips = keys.map((k) => a(k));
  expect(new Set(vips).size).toBe(keys.length);
  for (const v of vips) {
    expect(v).toMatch(/^240\.240\.\d{1,3}\.\d{1,3}$/);
    expect(["240.240.0.0", "240.240.255.255"]).not.toContain(v);
  }
});

test("vipAllocator: a collision probes to the next free address; adding keys never moves earlier ones", () => {
  const small = vipAllocator("10.9.0.0/29"); // six usable addresses: collisions are certain
  const first = ["a", "b", "c", "d", "e", "f"].map((k) => small(k));
  expect(new Set(first).size).toBe(6);
  expect(["a", "b", "c", "d", "e", "f"].map((k) => small(k))).toEqual(first);
  // The same keys in the same order on a fresh allocator: the same VIPs.
  const again = vipAllocator("10.9.0.0/29");
  expect(["a", "b", "c", "d", "e", "f"].map((k) => again(k))).toEqual(first);
});

test("vipAllocator: a full range throws ERR_VIP_RANGE_EXHAUSTED; retain frees the keys not kept", () => {
  const a = vipAllocator("10.9.0.0/30");
  const x = a("x");
  a("y");
  expect(() => a("z")).toThrow(TranslateError);
  try {
    a("z");
  } catch (e) {
    expect((e as TranslateError).code).toBe("ERR_VIP_RANGE_EXHAUSTED");
  }
  a.retain(["x"]);
  expect(a("x")).toBe(x);
  expect(a("z")).not.toBe(x);
});

interface RangeRow { cidr: string; want: RegExp | "invalid" }
const rangeRows: RangeRow[] = [
  { cidr: "240.240.0.0/16", want: /^240\.240\./ },
  { cidr: "10.1.2.3/24", want: /^10\.1\.2\.(\d+)$/ }, // host bits are ignored
  { cidr: "192.0.2.7/32", want: /^192\.0\.2\.7$/ },
  { cidr: "fd00::/64", want: "invalid" },
  { cidr: "240.240.0.0", want: "invalid" },
  { cidr: "300.0.0.0/8", want: "invalid" },
  { cidr: "10.0.0.0/33", want: "invalid" },
];
for (const r of rangeRows) {
  test(`vipAllocator: range ${r.cidr}`, () => {
    if (r.want === "invalid") {
      expect(() => vipAllocator(r.cidr)).toThrow(/is not an IPv4 CIDR/);
      return;
    }
    expect(vipAllocator(r.cidr)("default/x")).toMatch(r.want);
  });
}
