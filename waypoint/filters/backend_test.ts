import * as assert from "node:assert/strict";
import { test } from "bun:test";
import type { RouteBackend } from "../../xds/waypoint_resources.ts";
import { pickBackend } from "./backend.ts";

const b = (service: string, weight: number): RouteBackend => ({ backend: { kind: "service", service, port: 80 }, weight, filters: [] });
const name = (x: RouteBackend | undefined) => (x?.backend.kind === "service" ? x.backend.service : undefined);

test("pickBackend: each backend gets weight/sum; weight 0 gets nothing; all zero is none", () => {
  const cases: [string, RouteBackend[], number, string | undefined][] = [
    ["single backend", [b("a", 1)], 0.99, "a"],
    ["single backend of weight 0", [b("a", 0)], 0.5, undefined],
    ["90/10, low draw", [b("a", 90), b("b", 10)], 0.0, "a"],
    ["90/10, draw just under 0.9", [b("a", 90), b("b", 10)], 0.8999, "a"],
    ["90/10, draw at 0.9", [b("a", 90), b("b", 10)], 0.9, "b"],
    ["90/10, top draw", [b("a", 90), b("b", 10)], 0.9999, "b"],
    ["weight 0 first is skipped", [b("a", 0), b("b", 1)], 0.0, "b"],
    ["weight 0 last never picked", [b("a", 1), b("b", 0)], 0.9999, "a"],
    ["all zero", [b("a", 0), b("b", 0)], 0.3, undefined],
    ["none", [], 0.3, undefined],
    ["three-way 1/1/2, draw 0.6", [b("a", 1), b("b", 1), b("c", 2)], 0.6, "c"],
    ["three-way 1/1/2, draw 0.3", [b("a", 1), b("b", 1), b("c", 2)], 0.3, "b"],
  ];
  for (const [label, backends, draw, want] of cases) assert.equal(name(pickBackend(backends, new WeakMap(), () => draw)), want, label);
});

test("pickBackend: 1,000 picks at 90/10 are exactly 900/100, one deal per rule", () => {
  const deals = new WeakMap();
  const rule = [b("a", 90), b("b", 10)], other = [b("c", 50), b("d", 50)];
  let a = 0, c = 0;
  for (let i = 0; i < 1000; i++) {
    if (name(pickBackend(rule, deals, Math.random)) === "a") a++;
    if (name(pickBackend(other, deals, Math.random)) === "c") c++;
  }
  assert.deepEqual([a, c], [900, 500]);
});
