// Table tests for per-service endpoint choice.
import { expect, test } from "bun:test";
import { RoundRobin } from "./load_balancer.ts";

const rows: { name: string; calls: [key: string, n: number][]; want: number[] }[] = [
  { name: "one service walks its endpoints in turn", calls: [["a", 3], ["a", 3], ["a", 3], ["a", 3]], want: [0, 1, 2, 0] },
  {
    name: "two services called alternately each walk all their endpoints",
    calls: [["a", 2], ["b", 2], ["a", 2], ["b", 2], ["a", 2], ["b", 2]],
    want: [0, 0, 1, 1, 0, 0],
  },
  { name: "a service with one endpoint always gets it and does not disturb others", calls: [["a", 2], ["one", 1], ["a", 2], ["one", 1]], want: [0, 0, 1, 0] },
  { name: "an endpoint set that shrinks stays in range", calls: [["a", 3], ["a", 3], ["a", 2], ["a", 2]], want: [0, 1, 0, 1] },
  { name: "no endpoints: 0 (the caller refuses before using it)", calls: [["a", 0]], want: [0] },
];

for (const row of rows) {
  test(`RoundRobin: ${row.name}`, () => {
    const lb = new RoundRobin();
    expect(row.calls.map(([key, n]) => lb.choose(key, n))).toEqual(row.want);
  });
}

test("RoundRobin: thousands of services keep a bounded table and still choose in range", () => {
  const lb = new RoundRobin();
  for (let i = 0; i < 10_000; i++) expect(lb.choose(`svc-${i}`, 3)).toBe(0);
  expect(lb.choose("svc-9999", 3)).toBe(1);
});
