import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ObjectStore } from "./object_store.ts";
import { PersistentVips } from "./persistent_vips.ts";

const open = (dir: string) => new PersistentVips(ObjectStore.open(path.join(dir, "store"), dir), "240.240.0.0/30");

/** One translation: ask for each key, tell which are in use, persist. */
async function translate(vips: PersistentVips, keys: string[]): Promise<Record<string, string>> {
  const out = Object.fromEntries(keys.map((k) => [k, vips.allocate(k)]));
  vips.allocate.retain(keys);
  await vips.settle();
  return out;
}

test("a VIP survives a restart even when keys then arrive in another order (a /30 has two addresses: they collide)", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-vips-"));
  const first = await translate(open(dir), ["default/a", "default/b"]);
  expect(new Set(Object.values(first)).size).toBe(2);
  const again = await translate(open(dir), ["default/b", "default/a"]);
  expect(again).toEqual(first);
});

test("a key no longer translated frees its VIP; a full range is an error naming the key", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-vips-"));
  const vips = open(dir);
  const both = await translate(vips, ["default/a", "default/b"]);
  await translate(vips, ["default/a"]);
  expect((await translate(open(dir), ["default/a", "default/c"]))["default/c"]).toBe(both["default/b"]!);
  await expect(translate(open(dir), ["default/a", "default/c", "default/d"])).rejects.toThrow(/no VIP left in 240\.240\.0\.0\/30 for default\/d/);
});
