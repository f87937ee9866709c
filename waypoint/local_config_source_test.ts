import * as assert from "node:assert/strict";
import { test } from "bun:test";
import { stringify } from "yaml";
import { ConfigError } from "../config/errors.ts";
import { serviceRoutes } from "../testing/waypoint_routes.ts";
import { testService } from "../testing/resources.ts";
import { parseLocalWaypointConfig } from "./local_config_source.ts";

test("a good file parses into a snapshot and the gateway", () => {
  const c = parseLocalWaypointConfig("w.yaml", stringify({ gateway: "default/waypoint", services: [testService("a", "default")], routes: [serviceRoutes("default/a.default.svc.cluster.local", [{ backends: ["x"] }])] }));
  assert.equal(c.gateway, "default/waypoint");
  assert.equal(c.snapshot.services.length, 1);
  assert.equal(c.snapshot.routes[0]!.rules.length, 1);
  assert.deepEqual(c.snapshot.workloads, []);
});

test("bad files are refused whole, naming file, object and field", () => {
  const routes = serviceRoutes("default/a.default.svc.cluster.local", [{ backends: ["x"] }]);
  const cases: [string, unknown, RegExp][] = [
    ["not YAML", "a: [", /^w\.yaml: not YAML or JSON/],
    ["rule index out of range", { routes: [{ ...routes, routes: [{ match: { headers: [], queryParams: [] }, rule: 3 }] }] }, /ServiceRoutes default\/a\.default\.svc\.cluster\.local: routes\[0\]\.routes\[0\]\.rule: no rule 3/],
    ["bad regex", { routes: [{ ...routes, routes: [{ match: { path: { type: "RegularExpression", value: "(" }, headers: [], queryParams: [] }, rule: 0 }] }] }, /invalid regular expression/],
    ["bad redirect code", { routes: [{ ...routes, rules: [{ ...routes.rules[0], filters: [{ type: "RequestRedirect", requestRedirect: { statusCode: 399 } }] }] }] }, /routes\[0\]\.rules\[0\]\.filters\[0\]/],
    ["service without hostname", { services: [{ ...testService("b", "ns"), hostname: undefined }] }, /Service ns\/b: services\[0\]\.hostname/],
    ["negative weight", { routes: [{ ...routes, rules: [{ ...routes.rules[0], backends: [{ ...routes.rules[0]!.backends[0], weight: -1 }] }] }] }, /weight/],
  ];
  for (const [label, doc, want] of cases) {
    assert.throws(() => parseLocalWaypointConfig("w.yaml", typeof doc === "string" ? doc : stringify(doc)), (e: Error) => e instanceof ConfigError && want.test(e.message), label);
  }
});
