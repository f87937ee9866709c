// Table tests for RFC 1929 username/password parsing.
import { expect, test } from "bun:test";
import { formatPasswordStatus, parsePasswordRequest } from "./socks5_password.ts";

const b = (...bytes: number[]) => Uint8Array.from(bytes);
const req = (user: string, pass: string, ver = 1) => b(ver, user.length, ...Buffer.from(user), pass.length, ...Buffer.from(pass));

const rows: [string, Uint8Array, unknown][] = [
  ["empty", b(), { kind: "more" }],
  ["version only", b(1), { kind: "more" }],
  ["username still coming", b(1, 6, 0x63, 0x6c), { kind: "more" }],
  ["password length still coming", b(1, 1, 0x63), { kind: "more" }],
  ["password still coming", b(1, 1, 0x63, 4, 0x70), { kind: "more" }],
  ["complete", req("client", "s3cret"), { kind: "ok", consumed: 15, username: "client", password: "s3cret" }],
  ["complete, with the CONNECT request behind it", b(...req("c", "p"), 5, 1, 0), { kind: "ok", consumed: 5, username: "c", password: "p" }],
  ["longest fields (255 bytes each)", req("u".repeat(255), "p".repeat(255)), { kind: "ok", consumed: 513 }],
  ["version 5 (a client that skipped the sub-negotiation)", req("client", "x", 5), { kind: "refuse", reply: null }],
  ["empty username", req("", "x"), { kind: "refuse", reply: null }],
  ["empty password", req("client", ""), { kind: "refuse", reply: null }],
];
for (const [name, input, want] of rows) {
  test(`username/password request: ${name}`, () => expect(parsePasswordRequest(input)).toMatchObject(want as object));
}

test("username/password status: 1 0 succeeds, 1 1 fails", () => {
  expect(formatPasswordStatus(true)).toEqual(b(1, 0));
  expect(formatPasswordStatus(false)).toEqual(b(1, 1));
});
