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
  for (const [label, backends, draw, want] of cases) assert.equal(name(pickBackend(backends, () => draw)), want, label);
});

test("pickBackend: 10,000 draws land on 70/30 within 2 %", () => {
  let s = 1;
  const random = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  let a = 0;
  for (let i = 0; i < 10_000; i++) if (name(pickBackend([b("a", 70), b("b", 30)], random)) === "a") a++;
  assert.ok(Math.abs(a / 10_000 - 0.7) < 0.02, `a got ${a}`);
});
