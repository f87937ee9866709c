import { expect, test } from "bun:test";
import type { KubeObject } from "../../config/objects.ts";
import { authorizationPolicy, OPTIONS, service, waypoint } from "./_fixtures.ts";
import { translateWaypointPolicies, WAYPOINT_ACCEPTED_CONDITION } from "./l7_status.ts";

const wp = waypoint("waypoint", { addresses: [{ value: "10.0.0.100" }] });
const served = service("httpbin", { labels: { "istio.io/use-waypoint": "waypoint" } });
const alone = service("lonely");
const requireJwt = authorizationPolicy("require-jwt", "default", { targetRefs: [{ kind: "Service", group: "", name: "httpbin" }], rules: [{ from: [{ source: { requestPrincipals: ["*"] } }] }] });
const ra: KubeObject = {
  apiVersion: "security.istio.io/v1", kind: "RequestAuthentication", metadata: { name: "jwt", namespace: "default" },
  spec: { targetRefs: [{ kind: "Gateway", group: "gateway.networking.k8s.io", name: "waypoint" }], jwtRules: [{ issuer: "https://issuer.example", jwksUri: "https://issuer.example/jwks", timeout: "2s" }] },
};

test("a Service with a waypoint: its policies go to that waypoint, status WaypointAccepted True", () => {
  const t = translateWaypointPolicies([wp, served, alone, requireJwt, ra], OPTIONS);
  const policies = t.byWaypoint.get("default/waypoint")!;
  expect(policies.map((p) => p.service)).toEqual(["default/httpbin.default.svc.cluster.local"]);
  expect(policies[0]!.authorizations[0]).toMatchObject({ name: "require-jwt", action: "ALLOW", rules: [{ from: [{ source: { requestPrincipals: ["*"] } }] }] });
  expect(policies[0]!.requestAuthentications[0]!.jwtRules[0]).toMatchObject({ issuer: "https://issuer.example", timeoutMs: 2000, audiences: [], forwardOriginalToken: false });
  expect(t.statuses.get("security.istio.io/AuthorizationPolicy/default/require-jwt") ?? [...t.statuses.values()][0]).toContainEqual(expect.objectContaining({ type: WAYPOINT_ACCEPTED_CONDITION, status: "True" }));
  expect(t.warnings).toEqual([]);
});

test("a Service without a waypoint: warning and WaypointAccepted False (NoWaypoint); a missing Service: TargetNotFound", () => {
  const onLonely = authorizationPolicy("paths", "default", { targetRefs: [{ kind: "Service", group: "", name: "lonely" }], rules: [{}] });
  const onGhost = authorizationPolicy("ghost", "default", { targetRefs: [{ kind: "Service", group: "", name: "ghost" }], rules: [{}] });
  const t = translateWaypointPolicies([wp, served, alone, onLonely, onGhost], OPTIONS);
  expect(t.byWaypoint.size).toBe(0);
  const conditions = [...t.statuses.values()].flat();
  expect(conditions.map((c) => c.reason).sort()).toEqual(["NoWaypoint", "TargetNotFound"]);
  expect(t.warnings.map((w) => w.object).sort()).toEqual(["AuthorizationPolicy default/ghost", "AuthorizationPolicy default/paths"]);
  expect(t.warnings.find((w) => w.object.endsWith("/paths"))!.message).toMatch(/has no waypoint: nothing enforces this policy/);
});

test("a JWT rule with no way to get keys: warning and WaypointAccepted False (Invalid)", () => {
  const keyless: KubeObject = { ...ra, metadata: { name: "keyless", namespace: "default" }, spec: { targetRefs: [{ kind: "Service", group: "", name: "httpbin" }], jwtRules: [{ issuer: "testing@secure.istio.io" }] } };
  const t = translateWaypointPolicies([wp, served, keyless], OPTIONS);
  expect([...t.statuses.values()].flat()[0]).toMatchObject({ status: "False", reason: "Invalid" });
  expect(t.warnings[0]!.message).toMatch(/not a URL, so its keys cannot be discovered/);
});
