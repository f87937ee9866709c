import * as assert from "node:assert/strict";
import { test } from "bun:test";
import type { PathModifier } from "../../xds/waypoint_resources.ts";
import { modifyPath, redirectLocation } from "./redirect.ts";

const ctx = (authority: string, path: string, prefix?: string, port = 80) => ({
  upstream: { method: "GET", path, authority, headers: {} },
  route: { entry: { match: { headers: [], queryParams: [], path: prefix ? { type: "PathPrefix" as const, value: prefix } : undefined }, rule: 0 }, rule: {} as never },
  target: { service: {} as never, key: "default/echo", port },
});

test("redirectLocation: Gateway API port, scheme and path rules", () => {
  const cases: [string, ReturnType<typeof ctx>, Parameters<typeof redirectLocation>[1], string][] = [
    ["hostname only keeps the listener port (80, left out)", ctx("echo", "/a"), { hostname: "example.org" }, "http://example.org/a"],
    ["listener port 8080 stays", ctx("echo:8080", "/a", undefined, 8080), { hostname: "example.org" }, "http://example.org:8080/a"],
    ["explicit port", ctx("echo", "/a"), { port: 8083 }, "http://echo:8083/a"],
    ["https scheme without a port: 443, left out", ctx("echo", "/a", undefined, 8080), { scheme: "https" }, "https://echo/a"],
    ["http scheme without a port: 80, left out", ctx("echo:8080", "/a", undefined, 8080), { scheme: "http" }, "http://echo/a"],
    ["https with port 8443", ctx("echo", "/a"), { scheme: "https", port: 8443 }, "https://echo:8443/a"],
    ["https with port 443 left out", ctx("echo", "/a"), { scheme: "https", port: 443 }, "https://echo/a"],
    ["query kept", ctx("echo", "/a?x=1&y=2"), { hostname: "h" }, "http://h/a?x=1&y=2"],
    ["full path replaced", ctx("echo", "/a/b"), { path: { type: "ReplaceFullPath", replaceFullPath: "/new" } }, "http://echo/new"],
    ["prefix replaced", ctx("echo", "/old/x", "/old"), { path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/new" } }, "http://echo/new/x"],
    ["IPv6 authority", ctx("[::1]:80", "/a"), {}, "http://[::1]/a"],
  ];
  for (const [label, c, r, want] of cases) assert.equal(redirectLocation(c, r), want, label);
});

test("modifyPath: ReplacePrefixMatch on segment boundaries and slashes", () => {
  const rp = (v: string): PathModifier => ({ type: "ReplacePrefixMatch", replacePrefixMatch: v });
  const cases: [string, string, PathModifier, string | undefined, string][] = [
    ["strip to root", "/strip-prefix", rp("/"), "/strip-prefix", "/"],
    ["strip keeps the rest", "/strip-prefix/three", rp("/"), "/strip-prefix", "/three"],
    ["replace with a longer prefix", "/prefix/one/two", rp("/one"), "/prefix", "/one/one/two"],
    ["replacement with a trailing slash", "/a/b", rp("/x/"), "/a", "/x/b"],
    ["match value with a trailing slash", "/a/b", rp("/x"), "/a/", "/x/b"],
    ["exact prefix path", "/a", rp("/x"), "/a", "/x"],
    ["prefix '/' prepends", "/a/b", rp("/x"), "/", "/x/a/b"],
    ["empty replacement to root", "/a", rp(""), "/a", "/"],
    ["no prefix match: unchanged", "/a/b", rp("/x"), undefined, "/a/b"],
  ];
  for (const [label, path, mod, prefix, want] of cases) assert.equal(modifyPath(path, mod, prefix), want, label);
});
