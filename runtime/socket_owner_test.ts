import { describe, expect, test } from "bun:test";
import { findSocketOwner } from "./socket_owner.ts";

// Lines as /proc/net/tcp printed them in a test namespace: a listener, the captured
// client's socket (uid 2001, ESTABLISHED), and the same 4-tuple in TIME_WAIT (uid 0).
const TABLE = [
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
  "   0: 0100007F:3A99 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 317416 1 0000 100 0 0 10 0",
  "   1: 01014D0A:D07A 0A00600A:0050 01 00000000:00000000 00:00000000 00000000  2001        0 317500 1 0000 20 4 30 10 -1",
  "   2: 02014D0A:D07B 0A00600A:0050 06 00000000:00000000 03:0000176F 00000000     0        0 0 3 0000",
].join("\n");
const TABLE6 = "   0: 0000000000000000FFFF000001014D0A:D07C 0000000000000000FFFF00000A00600A:0050 01 00000000:00000000 00:00000000 00000000  2002        0 1 1 0";

describe("findSocketOwner", () => {
  test.each([
    ["an established client socket", TABLE, "10.77.1.1", 0xd07a, 2001],
    ["a socket in TIME_WAIT", TABLE, "10.77.1.2", 0xd07b, undefined],
    ["an unknown port", TABLE, "10.77.1.1", 1, undefined],
    ["an IPv4-mapped tcp6 socket", TABLE6, "10.77.1.1", 0xd07c, 2002],
    ["a malformed address", TABLE, "not-an-ip", 0xd07a, undefined],
  ])("%s", (_, table, address, port, want) => {
    expect(findSocketOwner(table, { address, port }, { address: "10.96.0.10", port: 80 })).toBe(want);
  });
});
