// Gateway API conformance cases (conformance/tests/mesh/*.go and httproute-*.go),
// ported to Ambit: each test names the case it ports. Real processes: the
// waypoint (from a local file), a ztunnel in front of real echo backends, and
// an HBONE client with its own SVID. The routes are written as the controlplane
// would translate the case's YAML (precedence already applied).
import * as assert from "node:assert/strict";
import { afterAll, test } from "../testing/harness.ts";
import { startWaypointMesh } from "../testing/waypoint_mesh.ts";
import { header, serviceRoutes } from "../testing/waypoint_routes.ts";
import type { HeaderModifier, RouteFilter } from "../xds/waypoint_resources.ts";

const mod = (m: Partial<HeaderModifier>): HeaderModifier => ({ set: [], add: [], remove: [], ...m });
const kv = (o: Record<string, string>) => Object.entries(o).map(([name, value]) => ({ name, value }));
const reqMod = (m: Partial<HeaderModifier>): RouteFilter => ({ type: "RequestHeaderModifier", requestHeaderModifier: mod(m) });
const prefix = (value: string) => ({ path: { type: "PathPrefix" as const, value } });
const exact = (value: string) => ({ path: { type: "Exact" as const, value } });
const redirect = (r: Extract<RouteFilter, { type: "RequestRedirect" }>["requestRedirect"]): RouteFilter => ({ type: "RequestRedirect", requestRedirect: r });

const mesh = await startWaypointMesh([
  { name: "echo", vip: "10.96.2.1", backends: ["echo-v1"] },
  { name: "echo-v1", vip: "10.96.2.11", backends: ["echo-v1"] },
  { name: "echo-v2", vip: "10.96.2.12", backends: ["echo-v2"] },
  { name: "echo-v3", vip: "10.96.2.13", backends: ["echo-v3"] },
  { name: "mirror", vip: "10.96.2.20", backends: ["mirror-v1"] },
  { name: "missing", vip: "10.96.2.30", backends: [] },
], (k) => [
  serviceRoutes(k.echo!, [
    // MeshHTTPRouteMatching (httproute-matching.yaml), precedence applied.
    { matches: [prefix("/v2")], backends: [k["echo-v2"]!] },
    { matches: [{ ...prefix("/"), headers: [header("version", "two")] }], backends: [k["echo-v2"]!] },
    // MeshHTTPRouteQueryParamMatching
    { matches: [{ ...prefix("/query"), queryParams: [header("animal", "dolphin"), header("color", "blue")] }], backends: [k["echo-v3"]!] },
    { matches: [{ ...prefix("/query"), queryParams: [header("animal", "dolphin")] }], backends: [k["echo-v2"]!] },
    { matches: [{ ...prefix("/query"), queryParams: [header("animal", "whale")] }], backends: [k["echo-v1"]!] },
    // MeshHTTPRouteRequestHeaderModifier
    { matches: [exact("/set")], filters: [reqMod({ set: kv({ "X-Header-Set": "set-overwrites-values" }) })], backends: [k["echo-v1"]!] },
    { matches: [exact("/add")], filters: [reqMod({ add: kv({ "X-Header-Add": "add-appends-values" }) })], backends: [k["echo-v1"]!] },
    { matches: [exact("/remove")], filters: [reqMod({ remove: ["X-Header-Remove"] })], backends: [k["echo-v1"]!] },
    {
      matches: [exact("/multiple")],
      filters: [reqMod({
        set: kv({ "X-Header-Set-1": "header-set-1", "X-Header-Set-2": "header-set-2" }),
        add: kv({ "X-Header-Add-1": "header-add-1", "X-Header-Add-2": "header-add-2", "X-Header-Add-3": "header-add-3" }),
        remove: ["X-Header-Remove-1", "X-Header-Remove-2"],
      })],
      backends: [k["echo-v1"]!],
    },
    {
      matches: [exact("/case-insensitivity")],
      filters: [reqMod({ set: kv({ "X-Header-Set": "header-set" }), add: kv({ "X-Header-Add": "header-add" }), remove: ["X-Header-Remove"] })],
      backends: [k["echo-v1"]!],
    },
    // MeshHTTPRouteBackendRequestHeaderModifier: the same filter on the backend.
    { matches: [exact("/backend-set")], backends: [{ service: k["echo-v1"]!, filters: [reqMod({ set: kv({ "X-Header-Set": "set-overwrites-values" }) })] }] },
    // HTTPRouteResponseHeaderModifier
    {
      matches: [exact("/response")],
      filters: [{ type: "ResponseHeaderModifier", responseHeaderModifier: mod({ set: kv({ "X-Header-Set": "set-overwrites-values" }), add: kv({ "X-Header-Add": "add-appends-values" }), remove: ["X-Header-Remove"] }) }],
      backends: [k["echo-v1"]!],
    },
    // MeshHTTPRouteRewritePath
    { matches: [prefix("/prefix/rewrite-path-and-modify-headers")], filters: [{ type: "URLRewrite", urlRewrite: { path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/prefix" } } }, reqMod({ set: kv({ "X-Header-Set": "set-overwrites-values" }), add: kv({ "X-Header-Add": "header-val-1", "X-Header-Add-Append": "header-val-2" }), remove: ["X-Header-Remove"] })], backends: [k["echo-v1"]!] },
    { matches: [prefix("/full/rewrite-path-and-modify-headers")], filters: [{ type: "URLRewrite", urlRewrite: { path: { type: "ReplaceFullPath", replaceFullPath: "/test" } } }, reqMod({ set: kv({ "X-Header-Set": "set-overwrites-values" }), add: kv({ "X-Header-Add": "header-val-1", "X-Header-Add-Append": "header-val-2" }), remove: ["X-Header-Remove"] })], backends: [k["echo-v1"]!] },
    { matches: [prefix("/prefix/one")], filters: [{ type: "URLRewrite", urlRewrite: { path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/one" } } }], backends: [k["echo-v1"]!] },
    { matches: [prefix("/strip-prefix")], filters: [{ type: "URLRewrite", urlRewrite: { path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/" } } }], backends: [k["echo-v1"]!] },
    { matches: [prefix("/full/one")], filters: [{ type: "URLRewrite", urlRewrite: { path: { type: "ReplaceFullPath", replaceFullPath: "/one" } } }], backends: [k["echo-v1"]!] },
    // HTTPRouteRewriteHost
    { matches: [prefix("/rewrite-host")], filters: [{ type: "URLRewrite", urlRewrite: { hostname: "one.example.org" } }], backends: [k["echo-v1"]!] },
    // MeshHTTPRouteRedirectPort, MeshHTTPRouteRedirectHostAndStatus, MeshHTTPRouteRedirectScheme, MeshHTTPRouteRedirectPath
    { matches: [exact("/port")], filters: [redirect({ port: 8083, statusCode: 302 })] },
    { matches: [exact("/port-and-host")], filters: [redirect({ hostname: "example.org", port: 8083, statusCode: 302 })] },
    { matches: [exact("/port-and-status")], filters: [redirect({ port: 8083, statusCode: 301 })] },
    { matches: [exact("/hostname-redirect")], filters: [redirect({ hostname: "example.org", statusCode: 302 })] },
    { matches: [exact("/host-and-status")], filters: [redirect({ hostname: "example.org", statusCode: 301 })] },
    { matches: [exact("/303")], filters: [redirect({ hostname: "example.org", statusCode: 303 })] },
    { matches: [exact("/307")], filters: [redirect({ hostname: "example.org", statusCode: 307 })] },
    { matches: [exact("/308")], filters: [redirect({ hostname: "example.org", statusCode: 308 })] },
    { matches: [exact("/scheme")], filters: [redirect({ scheme: "https", statusCode: 302 })] },
    { matches: [exact("/scheme-and-port")], filters: [redirect({ scheme: "https", port: 8443, statusCode: 302 })] },
    { matches: [prefix("/original-prefix")], filters: [redirect({ path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/replacement-prefix" }, statusCode: 302 })] },
    { matches: [prefix("/full")], filters: [redirect({ path: { type: "ReplaceFullPath", replaceFullPath: "/full-path-replacement" }, statusCode: 302 })] },
    // HTTPRouteRequestMirror
    { matches: [exact("/mirror")], filters: [{ type: "RequestMirror", requestMirror: { backend: { kind: "service", service: k.mirror!, port: 80 }, percent: 100 } }], backends: [k["echo-v1"]!] },
    // HTTPRouteInvalidBackendRefUnknownKind / HTTPRouteAllBackendsWeightZero / a rule with no backends
    { matches: [exact("/unresolved")], backends: [{ unresolved: "BackendRef kind Unknown is not supported" }] },
    { matches: [exact("/weight-zero")], backends: [{ service: k["echo-v1"]!, weight: 0 }, { service: k["echo-v2"]!, weight: 0 }] },
    { matches: [exact("/no-backends")] },
    { matches: [exact("/half-unresolved")], backends: [{ service: k["echo-v1"]!, weight: 1 }, { unresolved: "Service missing not found", weight: 1 }] },
    { matches: [exact("/no-endpoints")], backends: [k.missing!] },
    // HTTPRouteRequestTimeout / HTTPRouteBackendRequestTimeout (GEP-1742)
    { matches: [prefix("/request-timeout")], filters: [{ type: "URLRewrite", urlRewrite: { path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/delay" } } }], timeouts: { requestMs: 300 }, backends: [k["echo-v1"]!] },
    { matches: [prefix("/backend-timeout")], filters: [{ type: "URLRewrite", urlRewrite: { path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/delay" } } }], timeouts: { backendRequestMs: 300 }, backends: [k["echo-v1"]!] },
    // GEP-1731 retries
    { matches: [prefix("/retry")], filters: [{ type: "URLRewrite", urlRewrite: { path: { type: "ReplaceFullPath", replaceFullPath: "/status/503" } } }], retry: { codes: [503], attempts: 2, backoffMs: 10 }, backends: [k["echo-v3"]!] },
    // MeshHTTPRouteMatching: everything else
    { matches: [{ ...prefix("/"), headers: [header("version", "one")] }], backends: [k["echo-v1"]!] },
    { matches: [prefix("/")], backends: [k["echo-v1"]!] },
  ]),
]);
afterAll(() => mesh.stop());
const T = { timeout: 20_000 };

test("MeshHTTPRouteMatching: path prefix by segment and header matches", async () => {
  const cases: [string, Record<string, string>, string][] = [
    ["/", {}, "echo-v1"],
    ["/example", {}, "echo-v1"],
    ["/", { version: "one" }, "echo-v1"],
    ["/v2", {}, "echo-v2"],
    ["/v2/example", {}, "echo-v2"],
    ["/", { Version: "two" }, "echo-v2"],
    ["/v2/", {}, "echo-v2"],
    ["/v2example", {}, "echo-v1"],
    ["/foo/v2/example", {}, "echo-v1"],
  ];
  for (const [path, headers, backend] of cases) {
    const r = await mesh.request("echo", { path, headers });
    assert.equal(r.status, 200, `${path}: ${r.body}`);
    assert.equal(r.echo?.backend, backend, `${path} ${JSON.stringify(headers)}`);
  }
}, T);

test("MeshHTTPRouteQueryParamMatching: exact query parameters, most specific first", async () => {
  const cases: [string, string][] = [
    ["/query?animal=whale", "echo-v1"],
    ["/query?animal=dolphin", "echo-v2"],
    ["/query?animal=dolphin&color=blue", "echo-v3"],
    ["/query?ANIMAL=Whale", "echo-v1"], // names and values are case-sensitive: falls through to the "/" rule
  ];
  for (const [path, backend] of cases) {
    const r = await mesh.request("echo", { path });
    assert.equal(r.echo?.backend, backend, path);
  }
}, T);

test("MeshHTTPRouteRequestHeaderModifier: set, add, remove, several at once, case-insensitive names", async () => {
  let r = await mesh.request("echo", { path: "/set", headers: { "Some-Other-Header": "val", "X-Header-Set": "some-other-value" } });
  assert.equal(r.echo?.headers["x-header-set"], "set-overwrites-values");
  assert.equal(r.echo?.headers["some-other-header"], "val");
  r = await mesh.request("echo", { path: "/add", headers: { "X-Header-Add": "some-other-value" } });
  assert.equal(r.echo?.headers["x-header-add"], "some-other-value,add-appends-values");
  r = await mesh.request("echo", { path: "/add" });
  assert.equal(r.echo?.headers["x-header-add"], "add-appends-values");
  r = await mesh.request("echo", { path: "/remove", headers: { "X-Header-Remove": "val" } });
  assert.equal(r.echo?.headers["x-header-remove"], undefined);
  r = await mesh.request("echo", { path: "/multiple", headers: { "X-Header-Set-2": "set-val-2", "X-Header-Add-2": "add-val-2", "X-Header-Remove-2": "remove-val-2", "Another-Header": "another-header-val" } });
  assert.deepEqual(
    ["x-header-set-1", "x-header-set-2", "x-header-add-1", "x-header-add-2", "x-header-add-3", "another-header"].map((h) => r.echo?.headers[h]),
    ["header-set-1", "header-set-2", "header-add-1", "add-val-2,header-add-2", "header-add-3", "another-header-val"],
  );
  assert.equal(r.echo?.headers["x-header-remove-2"], undefined);
  r = await mesh.request("echo", { path: "/case-insensitivity", headers: { "x-header-set": "original-val-set", "x-header-add": "original-val-add", "x-header-remove": "original-val-remove" } });
  assert.equal(r.echo?.headers["x-header-set"], "header-set");
  assert.equal(r.echo?.headers["x-header-add"], "original-val-add,header-add");
  assert.equal(r.echo?.headers["x-header-remove"], undefined);
}, T);

test("MeshHTTPRouteBackendRequestHeaderModifier: the filter on the backendRef", async () => {
  const r = await mesh.request("echo", { path: "/backend-set", headers: { "X-Header-Set": "other" } });
  assert.equal(r.echo?.headers["x-header-set"], "set-overwrites-values");
}, T);

test("HTTPRouteResponseHeaderModifier: set, add, remove on the response", async () => {
  const r = await mesh.request("echo", { path: "/response", headers: { "x-echo-set-x-header-remove": "gone", "x-echo-set-x-header-add": "upstream", "x-echo-set-x-header-set": "upstream" } });
  assert.equal(r.headers["x-header-set"], "set-overwrites-values");
  assert.equal(r.headers["x-header-add"], "upstream,add-appends-values");
  assert.equal(r.headers["x-header-remove"], undefined);
}, T);

test("MeshHTTPRouteRewritePath: ReplacePrefixMatch and ReplaceFullPath, with header modifiers", async () => {
  const cases: [string, string][] = [
    ["/prefix/one/two", "/one/two"],
    ["/strip-prefix/three", "/three"],
    ["/strip-prefix", "/"],
    ["/full/one/two", "/one"],
    ["/strip-prefix/three?x=1", "/three?x=1"],
  ];
  for (const [path, upstream] of cases) {
    const r = await mesh.request("echo", { path });
    assert.equal(r.echo?.path, upstream, path);
  }
  for (const [path, upstream] of [["/full/rewrite-path-and-modify-headers/test", "/test"], ["/prefix/rewrite-path-and-modify-headers/one", "/prefix/one"]]) {
    const r = await mesh.request("echo", { path, headers: { "X-Header-Remove": "remove-val", "X-Header-Add-Append": "append-val-1", "X-Header-Set": "set-val" } });
    assert.equal(r.echo?.path, upstream);
    assert.equal(r.echo?.headers["x-header-add"], "header-val-1");
    assert.equal(r.echo?.headers["x-header-add-append"], "append-val-1,header-val-2");
    assert.equal(r.echo?.headers["x-header-set"], "set-overwrites-values");
    assert.equal(r.echo?.headers["x-header-remove"], undefined);
  }
}, T);

test("HTTPRouteRewriteHost: URLRewrite hostname", async () => {
  const r = await mesh.request("echo", { path: "/rewrite-host/x" });
  assert.equal(r.echo?.host, "one.example.org");
}, T);

test("MeshHTTPRouteRedirect{Port,HostAndStatus,Scheme,Path} and 303/307/308: Location and status", async () => {
  const cases: [string, number, string][] = [
    ["/port", 302, "http://echo:8083/port"],
    ["/port-and-host", 302, "http://example.org:8083/port-and-host"],
    ["/port-and-status", 301, "http://echo:8083/port-and-status"],
    ["/hostname-redirect", 302, "http://example.org/hostname-redirect"],
    ["/host-and-status", 301, "http://example.org/host-and-status"],
    ["/303", 303, "http://example.org/303"],
    ["/307", 307, "http://example.org/307"],
    ["/308", 308, "http://example.org/308"],
    ["/scheme", 302, "https://echo/scheme"],
    ["/scheme-and-port", 302, "https://echo:8443/scheme-and-port"],
    ["/original-prefix/lemon", 302, "http://echo/replacement-prefix/lemon"],
    ["/full/path/original", 302, "http://echo/full-path-replacement"],
    ["/original-prefix/lemon?a=b", 302, "http://echo/replacement-prefix/lemon?a=b"],
  ];
  for (const [path, status, location] of cases) {
    const r = await mesh.request("echo", { path, host: "echo" });
    assert.equal(r.status, status, path);
    assert.equal(r.headers.location, location, path);
  }
}, T);

test("HTTPRouteRequestMirror: the mirror backend gets a copy, the client the real answer", async () => {
  const before = mesh.backends["mirror-v1"]!.seen.length;
  const r = await mesh.request("echo", { path: "/mirror", method: "POST", body: "x".repeat(1000), headers: { "content-type": "text/plain" } });
  assert.equal(r.echo?.backend, "echo-v1");
  assert.equal(r.echo?.bodyBytes, 1000);
  const deadline = Date.now() + 5000;
  while (mesh.backends["mirror-v1"]!.seen.length === before && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
  const copy = mesh.backends["mirror-v1"]!.seen.at(-1)!;
  assert.equal(copy.path, "/mirror");
  assert.equal(copy.bodyBytes, 1000);
}, T);

test("HTTPRouteInvalidBackendRefUnknownKind / HTTPRouteAllBackendsWeightZero: 500; no endpoints: 503", async () => {
  for (const path of ["/unresolved", "/weight-zero", "/no-backends"]) {
    const r = await mesh.request("echo", { path });
    assert.equal(r.status, 500, `${path}: ${r.body}`);
  }
  assert.equal((await mesh.request("echo", { path: "/no-endpoints" })).status, 503);
}, T);

test("HTTPRouteInvalidBackendRefUnknownKind: an unresolved backend gets 500 for its share only", async () => {
  const counts = { 200: 0, 500: 0 } as Record<number, number>;
  for (let i = 0; i < 200; i++) counts[(await mesh.request("echo", { path: "/half-unresolved", keepAlive: true })).status]!++;
  assert.equal(counts[200]! + counts[500]!, 200);
  assert.ok(counts[500]! > 60 && counts[500]! < 140, `500s: ${counts[500]} of 200`);
}, T);

test("HTTPRouteRequestTimeout / HTTPRouteBackendRequestTimeout: 504 past the deadline, 200 within", async () => {
  assert.equal((await mesh.request("echo", { path: "/request-timeout/1000" })).status, 504);
  assert.equal((await mesh.request("echo", { path: "/backend-timeout/1000" })).status, 504);
  assert.equal((await mesh.request("echo", { path: "/request-timeout/0" })).status, 200);
}, T);

test("GEP-1731 retries: a retried code is tried 1 + attempts times, then answered", async () => {
  const before = mesh.backends["echo-v3"]!.seen.length;
  const r = await mesh.request("echo", { path: "/retry" });
  assert.equal(r.status, 503);
  assert.equal(mesh.backends["echo-v3"]!.seen.length - before, 3);
}, T);

test("no route for a path is 404 (MeshHTTPRouteMatching's counterpart: a route table without '/')", async () => {
  mesh.writeRoutes([serviceRoutes(mesh.keys["echo-v2"]!, [{ matches: [exact("/only")], backends: [mesh.keys["echo-v2"]!] }])]);
  const deadline = Date.now() + 5000;
  let r = await mesh.request("echo-v2", { path: "/other" });
  while (r.status !== 404 && Date.now() < deadline) r = await mesh.request("echo-v2", { path: "/other" });
  assert.equal(r.status, 404);
  assert.equal((await mesh.request("echo-v2", { path: "/only" })).status, 200);
}, T);
