import * as assert from "node:assert/strict";
import { test } from "bun:test";
import { applyHeaderModifier } from "./header_modifier.ts";

test("applyHeaderModifier: set replaces, add appends with a comma, remove deletes, names case-insensitive", () => {
  const h: Record<string, string | string[]> = { "x-set": "old", "x-add": "first", "x-remove": "gone", keep: "yes", multi: ["a", "b"] };
  applyHeaderModifier(h, {
    set: [{ name: "X-Set", value: "new" }, { name: "X-New", value: "n" }],
    add: [{ name: "X-ADD", value: "second" }, { name: "x-fresh", value: "f" }, { name: "multi", value: "c" }],
    remove: ["X-Remove", "absent"],
  });
  assert.deepEqual(h, { "x-set": "new", "x-new": "n", "x-add": "first,second", "x-fresh": "f", keep: "yes", multi: "a,b,c" });
});
