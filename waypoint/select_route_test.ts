import * as assert from "node:assert/strict";
import { test } from "bun:test";
import { header, serviceRoutes } from "../testing/waypoint_routes.ts";
import type { RouteMatch } from "../xds/waypoint_resources.ts";
import { pathMatches, type RouteRequest, selectRoute } from "./select_route.ts";

const req = (path: string, o: { method?: string; headers?: Record<string, string> } = {}): RouteRequest => {
  const q = path.indexOf("?");
  const headers = Object.fromEntries(Object.entries(o.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return { method: o.method ?? "GET", path: q < 0 ? path : path.slice(0, q), query: new URLSearchParams(q < 0 ? "" : path.slice(q + 1)), header: (n) => headers[n] };
};
const m = (x: Partial<RouteMatch>): Partial<RouteMatch> => x;
const P = (value: string) => ({ type: "PathPrefix" as const, value });
const E = (value: string) => ({ type: "Exact" as const, value });
const R = (value: string) => ({ type: "RegularExpression" as const, value });

// One table in precedence order (as the controlplane sends it); each case names the rule it must pick.
const routes = serviceRoutes("default/svc", [
  { name: "exact", matches: [m({ path: E("/exact") })], backends: ["a"] },
  { name: "regex", matches: [m({ path: R("/users/[0-9]+") })], backends: ["a"] },
  { name: "long-prefix", matches: [m({ path: P("/api/v2") })], backends: ["a"] },
  { name: "post-api", matches: [m({ path: P("/api"), method: "POST" })], backends: ["a"] },
  { name: "api-two-headers", matches: [m({ path: P("/api"), headers: [header("x-a", "1"), header("x-b", "2")] })], backends: ["a"] },
  { name: "api-one-header", matches: [m({ path: P("/api"), headers: [header("x-a", "1")] })], backends: ["a"] },
  { name: "api-query", matches: [m({ path: P("/api"), queryParams: [header("debug", "true")] })], backends: ["a"] },
  { name: "api-regex-header", matches: [m({ path: P("/api"), headers: [header("x-version", "v[0-9]+", "RegularExpression")] })], backends: ["a"] },
  { name: "api", matches: [m({ path: P("/api/") })], backends: ["a"] },
  { name: "or-matches", matches: [m({ path: E("/one") }), m({ path: E("/two") })], backends: ["a"] },
  { name: "host", matches: [m({ path: P("/h"), headers: [header("host", "special.example")] })], backends: ["a"] },
]);

const CASES: [string, RouteRequest, string | undefined][] = [
  ["exact path", req("/exact"), "exact"],
  ["exact path does not match a longer one", req("/exact/more"), undefined],
  ["exact path ignores the query", req("/exact?x=1"), "exact"],
  ["exact path is case-sensitive", req("/EXACT"), undefined],
  ["regex matches the whole path", req("/users/42"), "regex"],
  ["regex is anchored at the end", req("/users/42/x"), undefined],
  ["regex is anchored at the start", req("/x/users/42"), undefined],
  ["longest prefix wins", req("/api/v2/items"), "long-prefix"],
  ["prefix matches the exact path", req("/api/v2"), "long-prefix"],
  ["prefix matches with a trailing slash", req("/api/v2/"), "long-prefix"],
  ["prefix is by whole segments", req("/api/v2x"), "api"],
  ["method match", req("/api/x", { method: "POST" }), "post-api"],
  ["method is case-sensitive", req("/api/x", { method: "post" }), "api"],
  ["two header matches beat one", req("/api/x", { headers: { "x-a": "1", "x-b": "2" } }), "api-two-headers"],
  ["one header match", req("/api/x", { headers: { "x-a": "1" } }), "api-one-header"],
  ["header names are case-insensitive", req("/api/x", { headers: { "X-A": "1" } }), "api-one-header"],
  ["header values are exact", req("/api/x", { headers: { "x-a": "10" } }), "api"],
  ["header values are case-sensitive", req("/api/x", { headers: { "x-b": "2", "x-a": "1 " } }), "api"],
  ["query parameter match", req("/api/x?debug=true"), "api-query"],
  ["query parameter value is exact", req("/api/x?debug=TRUE"), "api"],
  ["query parameter name is case-sensitive", req("/api/x?Debug=true"), "api"],
  ["first of repeated query parameters counts", req("/api/x?debug=true&debug=false"), "api-query"],
  ["regex header match", req("/api/x", { headers: { "x-version": "v12" } }), "api-regex-header"],
  ["regex header match is anchored", req("/api/x", { headers: { "x-version": "v12-beta" } }), "api"],
  ["a trailing slash in the prefix value is ignored", req("/api"), "api"],
  ["prefix /api/ does not match /apix", req("/apix"), undefined],
  ["any of a rule's matches", req("/two"), "or-matches"],
  ["host header match reads the authority", req("/h", { headers: { host: "special.example" } }), "host"],
  ["nothing matches: 404", req("/nothing"), undefined],
  ["the root path matches nothing here", req("/"), undefined],
];

test("selectRoute: the first entry of the table that matches", () => {
  for (const [name, request, want] of CASES) {
    assert.equal(selectRoute(routes, request)?.rule.route.name, want, name);
  }
});

test("pathMatches: PathPrefix '/' matches every path; an invalid regex matches nothing", () => {
  assert.equal(pathMatches(P("/"), "/anything/at/all"), true);
  assert.equal(pathMatches(P("/"), "/"), true);
  assert.equal(pathMatches(R("("), "/("), false);
  assert.equal(pathMatches(E("/a%20b"), "/a%20b"), true);
});

test("selectRoute: an entry bound to one Service port (parentRef port) is skipped on another", () => {
  const base = serviceRoutes("default/svc", [{ name: "only-8080", matches: [m({ path: P("/") })], backends: ["a"] }, { name: "any", matches: [m({ path: P("/") })], backends: ["a"] }]);
  const bound = { ...base, routes: base.routes.map((e, i) => (i === 0 ? { ...e, port: 8080 } : e)) };
  const on = (port: number | undefined) => selectRoute(bound, { ...req("/x"), ...(port === undefined ? {} : { port }) })?.rule.route.name;
  assert.equal(on(8080), "only-8080");
  assert.equal(on(9090), "any");
  assert.equal(on(undefined), "only-8080");
});
