import { describe, expect, test } from "bun:test";
import { TokenBuckets } from "./token_bucket.ts";

describe("TokenBuckets", () => {
  const rule = { key: { type: "None" as const }, requests: 10, unitSeconds: 1 };
  test("a full bucket allows a burst, then refills at the rate", () => {
    let t = 0;
    const b = new TokenBuckets(10, () => t);
    const burst = Array.from({ length: 12 }, () => b.take("k", rule).allowed);
    expect(burst.filter(Boolean).length).toBe(10);
    expect(b.take("k", rule)).toMatchObject({ allowed: false, remaining: 0, resetSeconds: 1 });
    t = 250; // 2.5 tokens back
    expect([b.take("k", rule), b.take("k", rule), b.take("k", rule)].map((a) => a.allowed)).toEqual([true, true, false]);
    t = 10_000;
    expect(b.take("k", rule)).toMatchObject({ allowed: true, remaining: 9 });
  });
  test("keys have their own buckets; the number of buckets is bounded", () => {
    const b = new TokenBuckets(3, () => 0);
    for (const k of ["a", "b", "c", "d", "e"]) b.take(k, { ...rule, requests: 1 });
    expect(b.size).toBe(3);
    expect(b.take("e", { ...rule, requests: 1 }).allowed).toBe(false);
    expect(b.take("a", { ...rule, requests: 1 }).allowed).toBe(true);
  });
});
