import { describe, expect, test } from "bun:test";
import { checkRevokedSerial, normaliseSerial, revokedSerialSet } from "./revoked_serials.ts";

describe("normaliseSerial", () => {
  const cases: [string, string][] = [
    ["1a2b", "1a2b"],
    ["1A2B", "1a2b"],
    ["001a2b", "1a2b"],
    ["00:1A:2B", "1a2b"],
    ["0", "0"],
    ["0000", "0"],
  ];
  for (const [input, want] of cases) test(`${input} → ${want}`, () => expect(normaliseSerial(input)).toBe(want));
});

describe("checkRevokedSerial", () => {
  const revoked = revokedSerialSet(["1a2b", "00FF"]);
  const cases: { name: string; serial: string | undefined; set?: ReadonlySet<string>; want: boolean }[] = [
    { name: "the revoked serial as sent", serial: "1a2b", want: true },
    { name: "upper case from the TLS stack", serial: "1A2B", want: true },
    { name: "leading zeros from the TLS stack", serial: "0001A2B", want: true },
    { name: "a list entry with leading zeros still matches", serial: "ff", want: true },
    { name: "another serial", serial: "1a2c", want: false },
    { name: "a serial that only ends the same", serial: "11a2b", want: false },
    { name: "no serial exposed", serial: undefined, want: false },
    { name: "nothing revoked", serial: "1a2b", set: new Set(), want: false },
  ];
  for (const c of cases) {
    test(c.name, () => expect(checkRevokedSerial(c.serial, c.set ?? revoked).revoked).toBe(c.want));
  }
});
