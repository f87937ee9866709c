import { expect, test } from "bun:test";
import type { RouteMatch } from "../../xds/waypoint_resources.ts";
import { orderMatches, type RankedMatch } from "./route_precedence.ts";

const m = (over: Partial<RouteMatch>): RouteMatch => ({ headers: [], queryParams: [], ...over });
const h = (n: number) => Array.from({ length: n }, (_, i) => ({ type: "Exact" as const, name: `h${i}`, value: "v" }));
const entry = (id: string, match: RouteMatch, over: Partial<RankedMatch> = {}): RankedMatch & { id: string } =>
  ({ id, match, namespace: "default", name: "r", ruleIndex: 0, matchIndex: 0, ...over });

// Each case lists entries in the order they must come out, and is fed in reverse and shuffled.
const cases: { name: string; ordered: (RankedMatch & { id: string })[] }[] = [
  {
    name: "Exact path beats any prefix",
    ordered: [entry("exact", m({ path: { type: "Exact", value: "/a" } })), entry("prefix", m({ path: { type: "PathPrefix", value: "/a/b/c/d" } }))],
  },
  {
    name: "longer prefix beats shorter; no path is PathPrefix /",
    ordered: [
      entry("long", m({ path: { type: "PathPrefix", value: "/api/v1" } })),
      entry("short", m({ path: { type: "PathPrefix", value: "/api" } })),
      entry("none", m({})),
    ],
  },
  {
    name: "RegularExpression between Exact and PathPrefix (Ambit's choice)",
    ordered: [
      entry("exact", m({ path: { type: "Exact", value: "/x" } })),
      entry("regex", m({ path: { type: "RegularExpression", value: "/x.*" } })),
      entry("prefix", m({ path: { type: "PathPrefix", value: "/xyzxyz" } })),
    ],
  },
  {
    name: "same path: method beats headers, headers by count, then query params",
    ordered: [
      entry("method", m({ method: "GET" })),
      entry("two-headers", m({ headers: h(2) })),
      entry("one-header-two-query", m({ headers: h(1), queryParams: h(2) })),
      entry("one-header", m({ headers: h(1) })),
      entry("one-query", m({ queryParams: h(1) })),
      entry("nothing", m({})),
    ],
  },
  {
    name: "ties: oldest route, then namespace/name, then rule and match order",
    ordered: [
      entry("oldest", m({}), { createdAt: "2026-01-01T00:00:00Z", name: "zz" }),
      entry("newer", m({}), { createdAt: "2026-02-01T00:00:00Z", name: "aa" }),
      entry("no-timestamp-a", m({}), { name: "a" }),
      entry("no-timestamp-b-rule0", m({}), { name: "b" }),
      entry("no-timestamp-b-rule1-m0", m({}), { name: "b", ruleIndex: 1 }),
      entry("no-timestamp-b-rule1-m1", m({}), { name: "b", ruleIndex: 1, matchIndex: 1 }),
    ],
  },
  {
    name: "precedence across routes: a specific match in a newer route beats a catch-all in an older one",
    ordered: [
      entry("canary-header", m({ headers: h(1) }), { name: "new", createdAt: "2026-03-01T00:00:00Z" }),
      entry("catch-all", m({}), { name: "old", createdAt: "2026-01-01T00:00:00Z" }),
    ],
  },
];

for (const c of cases) {
  test(`precedence: ${c.name}`, () => {
    const inputs = [[...c.ordered].reverse(), [...c.ordered.slice(1), c.ordered[0]!]];
    for (const input of inputs) expect(orderMatches(input).map((e) => e.id)).toEqual(c.ordered.map((e) => e.id));
  });
}
