// The L7 decision table: each row is policies (in Istio's YAML shape), a
// request, and what Istio's waypoint answers (allow / deny, and who decided).
import { describe, expect, test } from "bun:test";
import type { L7Authorization, L7Rule } from "../xds/l7_policy_resources.ts";
import { authorizeRequest, customPoliciesFor, type L7RequestFacts, pathMatcher } from "./l7_authorization.ts";

const base: L7RequestFacts = {
  sourcePrincipal: "cluster.local/ns/default/sa/curl",
  sourceNamespace: "default",
  sourceIp: "10.0.0.5",
  remoteIp: "10.0.0.5",
  destinationIp: "10.96.0.10",
  destinationPort: 8000,
  host: "httpbin.default.svc.cluster.local:8000",
  method: "GET",
  path: "/api/items",
  header: () => undefined,
};
const jwt = { principal: "https://issuer.example/alice", audiences: ["httpbin", "other"], presenter: "web-app", claims: { iss: "https://issuer.example", sub: "alice", groups: ["dev", "ops"], nested: { role: "admin", level: 3 } } };

let n = 0;
const allow = (...rules: L7Rule[]): L7Authorization => ({ name: `allow-${n++}`, namespace: "default", action: "ALLOW", dryRun: false, rules });
const deny = (...rules: L7Rule[]): L7Authorization => ({ ...allow(...rules), name: `deny-${n++}`, action: "DENY" });
const op = (o: Record<string, string[]>): L7Rule => ({ to: [{ operation: o }] });
const src = (s: Record<string, string[]>): L7Rule => ({ from: [{ source: s }] });
const when = (key: string, values?: string[], notValues?: string[]): L7Rule => ({ when: [{ key, values, notValues }] });
const req = (over: Partial<L7RequestFacts> & { headers?: Record<string, string> } = {}): L7RequestFacts => {
  const { headers, ...rest } = over;
  return { ...base, ...rest, header: (name) => headers?.[name] };
};

type Row = [string, L7Authorization[], L7RequestFacts, boolean];
const rows: Row[] = [
  // Defaults and actions.
  ["no policies allows", [], req(), true],
  ["spec {} (ALLOW, no rules) denies all", [allow()], req(), false],
  ["empty rule allows all", [allow({})], req(), true],
  ["DENY with empty rule denies all", [deny({})], req(), false],
  ["DENY wins over ALLOW", [allow({}), deny(op({ methods: ["GET"] }))], req(), false],
  ["DENY not matching leaves ALLOW", [allow({}), deny(op({ methods: ["DELETE"] }))], req(), true],
  ["only DENY, not matching: allow", [deny(op({ paths: ["/admin"] }))], req(), true],
  ["ALLOW not matching, no other: deny", [allow(op({ paths: ["/admin"] }))], req(), false],
  ["any of two ALLOWs", [allow(op({ paths: ["/admin"] })), allow(op({ paths: ["/api/items"] }))], req(), true],
  // Methods.
  ["methods GET", [allow(op({ methods: ["GET", "POST"] }))], req(), true],
  ["methods POST", [allow(op({ methods: ["GET", "POST"] }))], req({ method: "POST" }), true],
  ["methods DELETE denied", [allow(op({ methods: ["GET", "POST"] }))], req({ method: "DELETE" }), false],
  ["methods are case-sensitive", [allow(op({ methods: ["get"] }))], req(), false],
  ["notMethods excludes", [allow(op({ notMethods: ["DELETE"] }))], req({ method: "DELETE" }), false],
  ["notMethods others pass", [allow(op({ notMethods: ["DELETE"] }))], req(), true],
  // Paths.
  ["exact path", [allow(op({ paths: ["/api/items"] }))], req(), true],
  ["exact path is exact", [allow(op({ paths: ["/api/items"] }))], req({ path: "/api/items/1" }), false],
  ["prefix path", [allow(op({ paths: ["/api/*"] }))], req({ path: "/api/items/1" }), true],
  ["prefix needs the slash", [allow(op({ paths: ["/api/*"] }))], req({ path: "/api" }), false],
  ["prefix is not contains", [allow(op({ paths: ["/api/*"] }))], req({ path: "/v1/api/x" }), false],
  ["suffix path", [allow(op({ paths: ["*.png"] }))], req({ path: "/img/a.png" }), true],
  ["suffix miss", [allow(op({ paths: ["*.png"] }))], req({ path: "/img/a.jpg" }), false],
  ["* any path", [allow(op({ paths: ["*"] }))], req({ path: "/" }), true],
  ["notPaths prefix", [allow(op({ notPaths: ["/admin/*"] }))], req({ path: "/admin/x" }), false],
  ["notPaths other", [allow(op({ notPaths: ["/admin/*"] }))], req(), true],
  ["{*} one segment", [allow(op({ paths: ["/api/{*}/items"] }))], req({ path: "/api/v1/items" }), true],
  ["{*} not two segments", [allow(op({ paths: ["/api/{*}/items"] }))], req({ path: "/api/v1/x/items" }), false],
  ["{*} not empty", [allow(op({ paths: ["/api/{*}/items"] }))], req({ path: "/api//items" }), false],
  ["{**} the rest", [allow(op({ paths: ["/api/{**}"] }))], req({ path: "/api/a/b/c" }), true],
  ["{**} then suffix", [allow(op({ paths: ["/foo/{**}/bar"] }))], req({ path: "/foo/a/b/bar" }), true],
  ["{**} then suffix miss", [allow(op({ paths: ["/foo/{**}/bar"] }))], req({ path: "/foo/a/b/baz" }), false],
  ["template dots are literal", [allow(op({ paths: ["/{*}.txt"] }))], req({ path: "/axtxt" }), false],
  ["template dots match", [allow(op({ paths: ["/{*}.txt"] }))], req({ path: "/a.txt" }), true],
  // Hosts and ports.
  ["host without port matches with port", [allow(op({ hosts: ["httpbin.default.svc.cluster.local"] }))], req(), true],
  ["host is case-insensitive", [allow(op({ hosts: ["HTTPBIN.default.svc.cluster.local"] }))], req(), true],
  ["host suffix wildcard", [allow(op({ hosts: ["*.svc.cluster.local"] }))], req(), true],
  ["host other", [allow(op({ hosts: ["other.example"] }))], req(), false],
  ["host with other port", [allow(op({ hosts: ["httpbin.default.svc.cluster.local:9000"] }))], req(), false],
  ["notHosts", [allow(op({ notHosts: ["httpbin.default.svc.cluster.local"] }))], req(), false],
  ["ports", [allow(op({ ports: ["8000"] }))], req(), true],
  ["ports miss", [allow(op({ ports: ["9000"] }))], req(), false],
  ["notPorts", [deny(op({ notPorts: ["8000"] }))], req({ destinationPort: 9000 }), false],
  ["operation fields AND", [allow(op({ methods: ["GET"], paths: ["/admin"] }))], req(), false],
  ["operations OR", [allow({ to: [{ operation: { paths: ["/admin"] } }, { operation: { methods: ["GET"] } }] })], req(), true],
  // Sources.
  ["principals", [allow(src({ principals: ["cluster.local/ns/default/sa/curl"] }))], req(), true],
  ["principals miss", [allow(src({ principals: ["cluster.local/ns/default/sa/other"] }))], req(), false],
  ["principals prefix", [allow(src({ principals: ["cluster.local/ns/default/*"] }))], req(), true],
  ["principals on plaintext", [allow(src({ principals: ["*"] }))], req({ sourcePrincipal: undefined }), false],
  ["notPrincipals", [deny(src({ notPrincipals: ["cluster.local/ns/default/sa/curl"] }))], req(), true],
  ["namespaces", [allow(src({ namespaces: ["default"] }))], req(), true],
  ["notNamespaces", [allow(src({ notNamespaces: ["default"] }))], req(), false],
  ["requestPrincipals * needs a JWT", [allow(src({ requestPrincipals: ["*"] }))], req(), false],
  ["requestPrincipals * with a JWT", [allow(src({ requestPrincipals: ["*"] }))], req({ auth: jwt }), true],
  ["requestPrincipals exact", [allow(src({ requestPrincipals: ["https://issuer.example/alice"] }))], req({ auth: jwt }), true],
  ["requestPrincipals other sub", [allow(src({ requestPrincipals: ["https://issuer.example/bob"] }))], req({ auth: jwt }), false],
  ["requestPrincipals issuer prefix", [allow(src({ requestPrincipals: ["https://issuer.example/*"] }))], req({ auth: jwt }), true],
  ["DENY notRequestPrincipals * denies anonymous", [deny(src({ notRequestPrincipals: ["*"] }))], req(), false],
  ["DENY notRequestPrincipals * lets JWT in", [deny(src({ notRequestPrincipals: ["*"] }))], req({ auth: jwt }), true],
  ["ipBlocks CIDR", [allow(src({ ipBlocks: ["10.0.0.0/24"] }))], req(), true],
  ["ipBlocks bare IP", [allow(src({ ipBlocks: ["10.0.0.6"] }))], req(), false],
  ["ipBlocks v4-mapped v6 source", [allow(src({ ipBlocks: ["10.0.0.0/8"] }))], req({ sourceIp: "::ffff:10.0.0.5" }), true],
  ["remoteIpBlocks", [allow(src({ remoteIpBlocks: ["192.168.0.0/16"] }))], req({ remoteIp: "192.168.1.1" }), true],
  ["notRemoteIpBlocks", [deny(src({ notRemoteIpBlocks: ["10.0.0.0/8"] }))], req({ remoteIp: "192.168.1.1" }), false],
  ["from and to AND", [allow({ from: [{ source: { namespaces: ["default"] } }], to: [{ operation: { methods: ["POST"] } }] })], req(), false],
  // when.
  ["header value", [allow(when("request.headers[x-token]", ["abc"]))], req({ headers: { "x-token": "abc" } }), true],
  ["header name case-insensitive", [allow(when("request.headers[X-Token]", ["abc"]))], req({ headers: { "x-token": "abc" } }), true],
  ["header absent", [allow(when("request.headers[x-token]", ["abc"]))], req(), false],
  ["header prefix", [allow(when("request.headers[user-agent]", ["curl/*"]))], req({ headers: { "user-agent": "curl/8.1" } }), true],
  ["header presence *", [allow(when("request.headers[x-token]", ["*"]))], req({ headers: { "x-token": "" } }), false],
  ["header notValues", [allow(when("request.headers[x-env]", undefined, ["prod"]))], req({ headers: { "x-env": "prod" } }), false],
  ["header notValues absent passes", [allow(when("request.headers[x-env]", undefined, ["prod"]))], req(), true],
  ["auth.principal", [allow(when("request.auth.principal", ["https://issuer.example/alice"]))], req({ auth: jwt }), true],
  ["auth.audiences any", [allow(when("request.auth.audiences", ["other"]))], req({ auth: jwt }), true],
  ["auth.audiences miss", [allow(when("request.auth.audiences", ["nope"]))], req({ auth: jwt }), false],
  ["auth.presenter", [allow(when("request.auth.presenter", ["web-app"]))], req({ auth: jwt }), true],
  ["claims list", [allow(when("request.auth.claims[groups]", ["ops"]))], req({ auth: jwt }), true],
  ["claims nested", [allow(when("request.auth.claims[nested][role]", ["admin"]))], req({ auth: jwt }), true],
  ["claims nested number", [allow(when("request.auth.claims[nested][level]", ["3"]))], req({ auth: jwt }), true],
  ["claims without JWT", [allow(when("request.auth.claims[groups]", ["ops"]))], req(), false],
  ["claims notValues", [deny(when("request.auth.claims[groups]", undefined, ["admins"]))], req({ auth: jwt }), false],
  ["remote.ip", [allow(when("remote.ip", ["10.0.0.0/16"]))], req(), true],
  ["source.ip notValues", [allow(when("source.ip", undefined, ["10.0.0.5"]))], req(), false],
  ["destination.ip", [allow(when("destination.ip", ["10.96.0.10"]))], req(), true],
  ["destination.port", [allow(when("destination.port", ["8000"]))], req(), true],
  ["source.namespace", [allow(when("source.namespace", ["other"]))], req(), false],
  ["source.principal", [allow(when("source.principal", ["cluster.local/ns/default/sa/curl"]))], req(), true],
  ["connection.sni never has a value", [allow(when("connection.sni", ["*"]))], req(), false],
  ["when entries AND", [allow({ when: [{ key: "destination.port", values: ["8000"] }, { key: "source.namespace", values: ["other"] }] })], req(), false],
  // Istio's ambient examples.
  ["require-valid-paths GET /api/x", [allow(op({ paths: ["/api/*"], methods: ["GET", "POST"] }))], req({ path: "/api/x" }), true],
  ["require-valid-paths DELETE /api/x", [allow(op({ paths: ["/api/*"], methods: ["GET", "POST"] }))], req({ path: "/api/x", method: "DELETE" }), false],
  ["require-valid-paths GET /other", [allow(op({ paths: ["/api/*"], methods: ["GET", "POST"] }))], req({ path: "/other" }), false],
];

describe("authorizeRequest: the decision table", () => {
  test("has at least 60 rows", () => expect(rows.length).toBeGreaterThanOrEqual(60));
  for (const [name, policies, facts, allowed] of rows) {
    test(name, () => expect(authorizeRequest(policies, facts).allowed).toBe(allowed));
  }
});

describe("authorizeRequest: who decides, AUDIT, dry-run, CUSTOM", () => {
  test("the deciding policy is named", () => {
    const d = deny(op({ methods: ["GET"] }));
    expect(authorizeRequest([allow({}), d], req())).toMatchObject({ allowed: false, policy: `default/${d.name}`, reason: "denied-by-policy" });
    expect(authorizeRequest([allow(op({ paths: ["/x"] }))], req())).toMatchObject({ allowed: false, reason: "no-allow-match" });
  });
  test("AUDIT marks the request and decides nothing", () => {
    const audit: L7Authorization = { ...allow(op({ paths: ["/api/*"] })), name: "audit-api", action: "AUDIT" };
    const d = authorizeRequest([audit], req());
    expect(d).toMatchObject({ allowed: true, reason: "no-allow-policies", audit: ["default/audit-api"] });
  });
  test("a dry-run DENY is reported, not enforced; a dry-run ALLOW does not make an ALLOW exist", () => {
    const dryDeny = { ...deny({}), name: "dry-deny", dryRun: true };
    expect(authorizeRequest([dryDeny], req())).toMatchObject({ allowed: true, dryRun: { wouldAllow: false, policy: "default/dry-deny" } });
    const dryAllow = { ...allow(op({ paths: ["/x"] })), dryRun: true };
    expect(authorizeRequest([dryAllow], req())).toMatchObject({ allowed: true, dryRun: { wouldAllow: false } });
  });
  test("CUSTOM policies are not ALLOW/DENY; the matching ones are listed for ext_authz", () => {
    const custom: L7Authorization = { ...allow(op({ paths: ["/api/*"] })), name: "ext", action: "CUSTOM", provider: "authz" };
    expect(authorizeRequest([custom], req()).allowed).toBe(true);
    expect(customPoliciesFor([custom], req()).map((p) => p.provider)).toEqual(["authz"]);
    expect(customPoliciesFor([custom], req({ path: "/other" }))).toEqual([]);
  });
  test("path templates compile once per pattern", () => {
    expect(pathMatcher("/a/{*}")("/a/b")).toBe(true);
    expect(pathMatcher("/a/{*}")("/a/b/c")).toBe(false);
  });
});
