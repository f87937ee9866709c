import * as assert from "node:assert/strict";
import { test } from "bun:test";
import { WeightedDeal } from "./weighted_deal.ts";

const count = (deal: WeightedDeal, n: number, size: number) => {
  const seen = new Array<number>(size).fill(0);
  for (let i = 0; i < n; i++) seen[deal.next()!]!++;
  return seen;
};

test("WeightedDeal: every cycle holds each share exactly", () => {
  const cases: [string, number[], number, number[]][] = [
    ["90/10 over 1,000", [90, 10], 1000, [900, 100]],
    ["90/10 over 10", [90, 10], 10, [9, 1]],
    ["50/50 over 2", [50, 50], 2, [1, 1]],
    ["1/1/2 over 8", [1, 1, 2], 8, [2, 2, 4]],
    ["a zero weight never comes up", [0, 3], 9, [0, 9]],
    ["fractional weights round", [0.4, 1.6], 4, [0, 4]],
    ["negative and NaN count as 0", [-5, Number.NaN, 2], 6, [0, 0, 6]],
    ["Gateway API's largest weights", [999_999, 1], 1_000_000, [999_999, 1]],
    ["a sampling percentage in millionths: 10 %", [100_000, 900_000], 1000, [100, 900]],
  ];
  for (const [label, weights, n, want] of cases) assert.deepEqual(count(new WeightedDeal(weights), n, weights.length), want, label);
});

test("WeightedDeal: all zero or none deals nothing", () => {
  assert.equal(new WeightedDeal([0, 0]).next(), undefined);
  assert.equal(new WeightedDeal([]).next(), undefined);
});

test("WeightedDeal: within a cycle the order is the draw's, and a top draw of 1 stays in range", () => {
  assert.deepEqual([0, 1, 2].map(() => new WeightedDeal([2, 1], () => 0.99).next()), [1, 1, 1]);
  const deal = new WeightedDeal([2, 1], () => 0);
  assert.deepEqual([deal.next(), deal.next(), deal.next()], [0, 0, 1]);
  assert.equal(new WeightedDeal([1, 1], () => 1).next(), 1);
});

test("WeightedDeal: cycles are shuffled anew (no fixed interleave)", () => {
  const deal = new WeightedDeal([1, 1]);
  const orders = new Set<string>();
  for (let i = 0; i < 64; i++) orders.add(`${deal.next()}${deal.next()}`);
  assert.deepEqual([...orders].sort(), ["01", "10"]);
});
