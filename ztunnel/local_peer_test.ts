// Table tests for "is this SOCKS5 client on this host".
import { expect, test } from "bun:test";
import { isOnThisHost } from "./local_peer.ts";

const interfaces = new Set(["10.0.0.5", "fd00::5"]);
const rows: [string, boolean][] = [
  ["127.0.0.1", true],
  ["127.0.20.3", true],
  ["::ffff:127.0.20.3", true],
  ["::1", true],
  ["10.0.0.5", true],
  ["::ffff:10.0.0.5", true],
  ["FD00::5", true],
  ["10.0.0.6", false],
  ["203.0.113.7", false],
  ["fd00::6", false],
  ["127.example", false],
  ["", false],
];
for (const [address, want] of rows) {
  test(`isOnThisHost(${JSON.stringify(address)}) is ${want}`, () => expect(isOnThisHost(address, interfaces)).toBe(want));
}
