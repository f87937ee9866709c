import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseWaypointKey, WaypointTokens } from "./waypoint_tokens.ts";

const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), "ambit-wpt-"));

test("waypoint tokens: issued once in clear, stored hashed, verified, replaced by a reissue, revocable, kept across restarts", async () => {
  const d = dir();
  const tokens = new WaypointTokens(d);
  const first = await tokens.issue("demo/wp", "admin");
  expect(first).toMatch(/^ambitwaypoint\.demo\.wp\.[A-Za-z0-9_-]{32}$/);
  expect(fs.readFileSync(path.join(d, "waypoint-tokens.json"), "utf8")).not.toContain(first.split(".")[3]!);
  expect(tokens.verify(first)).toEqual({ waypoint: "demo/wp" });
  const second = await tokens.issue("demo/wp", "admin");
  expect(tokens.verify(first)).toBeUndefined();
  expect(new WaypointTokens(d).verify(second)).toEqual({ waypoint: "demo/wp" });
  expect(await tokens.revoke("demo/wp")).toBe(true);
  expect(await tokens.revoke("demo/wp")).toBe(false);
  expect(new WaypointTokens(d).verify(second)).toEqual({ revoked: "demo/wp" });
  expect(tokens.list().map((t) => [t.waypoint, t.state])).toEqual([["demo/wp", "revoked"]]);
});

test("waypoint tokens: another waypoint's name, a changed secret and malformed tokens verify as nothing", async () => {
  const tokens = new WaypointTokens(dir());
  const t = await tokens.issue("demo/wp", "admin");
  const secret = t.split(".")[3]!;
  for (const bad of [`ambitwaypoint.demo.other.${secret}`, `ambitwaypoint.demo.wp.${secret}x`, `ambitjoin.demo.wp.${secret}`, `${t}.extra`, "ambitwaypoint..wp.x", ""]) {
    expect([bad, tokens.verify(bad)]).toEqual([bad, undefined]);
  }
});

test("parseWaypointKey: namespace/name of DNS labels only", async () => {
  expect(["demo/wp", "a/b/c", "demo", "/wp", "Demo/wp", "demo/wp.v2", 7].map(parseWaypointKey)).toEqual([
    { namespace: "demo", name: "wp" }, undefined, undefined, undefined, undefined, undefined, undefined,
  ]);
  await expect(new WaypointTokens(dir()).issue("demo/wp.v2", "admin")).rejects.toThrow(/namespace\/name/);
});

test("waypoint tokens written by an older controlplane (an array) are still read", async () => {
  const d = dir();
  const t = await new WaypointTokens(d).issue("demo/wp", "admin");
  const stored = JSON.parse(fs.readFileSync(path.join(d, "waypoint-tokens.json"), "utf8"));
  fs.writeFileSync(path.join(d, "waypoint-tokens.json"), JSON.stringify(Object.values(stored)));
  expect(new WaypointTokens(d).verify(t)).toEqual({ waypoint: "demo/wp" });
});
