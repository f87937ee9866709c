import { describe, expect, test } from "bun:test";
import { wellFormedFields } from "./header_block.ts";

describe("request fields", () => {
  const cases: [string, [string, string][], boolean][] = [
    ["CONNECT with authority and baggage", [[":method", "CONNECT"], [":authority", "a:1"], ["baggage", "x=y"]], true],
    ["upper-case name", [[":method", "CONNECT"], ["Baggage", "x"]], false],
    ["pseudo-header after a regular one", [["baggage", "x"], [":method", "CONNECT"]], false],
    ["no fields", [], true],
  ];
  for (const [name, fields, ok] of cases) test(name, () => expect(wellFormedFields(fields)).toBe(ok));
});
