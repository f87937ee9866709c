import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseWaypointKey, WaypointTokens } from "./waypoint_tokens.ts";

const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), "ambit-wpt-"));

test("waypoint tokens: issued once in clear, stored hashed, verified, replaced by a reissue, revocable, kept across restarts", () => {
  const d = dir();
  const tokens = new WaypointTokens(d);
  const first = tokens.issue("demo/wp", "admin");
  expect(first).toMatch(/^ambitwaypoint\.demo\.wp\.[A-Za-z0-9_-]{32}$/);
  expect(fs.readFileSync(path.join(d, "waypoint-tokens.json"), "utf8")).not.toContain(first.split(".")[3]!);
  expect(tokens.verify(first)).toEqual({ waypoint: "demo/wp" });
  const second = tokens.issue("demo/wp", "admin");
  expect(tokens.verify(first)).toBeUndefined();
  expect(new WaypointTokens(d).verify(second)).toEqual({ waypoint: "demo/wp" });
  expect(tokens.revoke("demo/wp")).toBe(true);
  expect(tokens.revoke("demo/wp")).toBe(false);
  expect(new WaypointTokens(d).verify(second)).toEqual({ revoked: "demo/wp" });
  expect(tokens.list().map((t) => [t.waypoint, t.state])).toEqual([["demo/wp", "revoked"]]);
});

test("waypoint tokens: another waypoint's name, a changed secret and malformed tokens verify as nothing", () => {
  const tokens = new WaypointTokens(dir());
  const t = tokens.issue("demo/wp", "admin");
  const secret = t.split(".")[3]!;
  for (const bad of [`ambitwaypoint.demo.other.${secret}`, `ambitwaypoint.demo.wp.${secret}x`, `ambitjoin.demo.wp.${secret}`, `${t}.extra`, "ambitwaypoint..wp.x", ""]) {
    expect([bad, tokens.verify(bad)]).toEqual([bad, undefined]);
  }
});

test("parseWaypointKey: namespace/name of DNS labels only", () => {
  expect(["demo/wp", "a/b/c", "demo", "/wp", "Demo/wp", "demo/wp.v2", 7].map(parseWaypointKey)).toEqual([
    { namespace: "demo", name: "wp" }, undefined, undefined, undefined, undefined, undefined, undefined,
  ]);
  expect(() => new WaypointTokens(dir()).issue("demo/wp.v2", "admin")).toThrow(/namespace\/name/);
});
