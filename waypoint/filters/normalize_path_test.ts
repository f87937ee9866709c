import { expect, test } from "bun:test";
import { normalizePath } from "./normalize_path.ts";

test("normalizePath: dot segments, unreserved escapes, everything else kept", () => {
  const rows: [string, string | undefined][] = [
    ["/a/b", "/a/b"],
    ["/a/./b", "/a/b"],
    ["/a/../b", "/b"],
    ["/../../etc", "/etc"],
    ["/a/b/..", "/a/"],
    ["/a/.", "/a/"],
    ["/%61pi", "/api"],
    ["/%2e%2e/admin", "/admin"],
    ["/a%2fb", "/a%2Fb"],
    ["/a%2Fb", "/a%2Fb"],
    ["/a//b", "/a//b"],
    ["/%00", undefined],
    ["/", "/"],
  ];
  for (const [input, want] of rows) expect(normalizePath(input), input).toBe(want as string);
});
