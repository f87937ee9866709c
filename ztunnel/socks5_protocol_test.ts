import { expect, test } from "bun:test";
import { formatReply, parseGreeting, parseRequest, SocksReply } from "./socks5_protocol.ts";

const b = (...bytes: number[]) => Uint8Array.from(bytes);
const domain = (name: string, port = 80) => b(5, 1, 0, 3, name.length, ...Buffer.from(name), port >> 8, port & 0xff);

const greetings: [string, Uint8Array, unknown][] = [
  ["empty", b(), { kind: "more" }],
  ["version only", b(5), { kind: "more" }],
  ["methods still coming", b(5, 2, 0), { kind: "more" }],
  ["no-auth offered", b(5, 1, 0), { kind: "ok", consumed: 3, noAuthOffered: true, passwordOffered: false }],
  ["no-auth among others", b(5, 3, 2, 1, 0), { kind: "ok", consumed: 5, noAuthOffered: true, passwordOffered: true }],
  ["only username/password", b(5, 1, 2), { kind: "ok", consumed: 3, noAuthOffered: false, passwordOffered: true }],
  ["SOCKS4", b(4, 1, 0, 80, 1, 2, 3, 4, 0), { kind: "refuse", reply: null }],
  ["zero methods", b(5, 0), { kind: "refuse", reply: null }],
];
for (const [name, input, want] of greetings) {
  test(`greeting: ${name}`, () => expect(parseGreeting(input)).toMatchObject(want as object));
}

const requests: [string, Uint8Array, unknown][] = [
  ["IPv4 CONNECT", b(5, 1, 0, 1, 10, 0, 0, 1, 0x1f, 0x90), { kind: "ok", host: "10.0.0.1", port: 8080, addressType: "ipv4", consumed: 10 }],
  ["IPv4 with early data", b(5, 1, 0, 1, 10, 0, 0, 1, 0, 80, 0x47, 0x45), { kind: "ok", consumed: 10 }],
  ["IPv6 CONNECT", b(5, 1, 0, 4, 0xfd, 0, ...Array(12).fill(0), 0, 1, 0, 80), { kind: "ok", host: "fd00::1", port: 80, addressType: "ipv6" }],
  ["IPv6 loopback", b(5, 1, 0, 4, ...Array(15).fill(0), 1, 1, 187), { kind: "ok", host: "::1", port: 443 }],
  ["domain CONNECT", domain("echo.default.svc.cluster.local", 9080), { kind: "ok", host: "echo.default.svc.cluster.local", port: 9080, addressType: "domain" }],
  ["truncated IPv4", b(5, 1, 0, 1, 10, 0), { kind: "more" }],
  ["truncated domain", b(5, 1, 0, 3, 10, 0x61, 0x62), { kind: "more" }],
  ["wrong version", b(4, 1, 0, 1, 10, 0, 0, 1, 0, 80), { kind: "refuse", reply: SocksReply.generalFailure }],
  ["non-zero reserved byte", b(5, 1, 7, 1, 10, 0, 0, 1, 0, 80), { kind: "refuse", reply: SocksReply.generalFailure }],
  ["BIND", b(5, 2, 0, 1, 10, 0, 0, 1, 0, 80), { kind: "refuse", reply: SocksReply.commandNotSupported }],
  ["UDP ASSOCIATE", b(5, 3, 0, 1, 10, 0, 0, 1, 0, 80), { kind: "refuse", reply: SocksReply.commandNotSupported }],
  ["address type 2", b(5, 1, 0, 2, 10, 0, 0, 1, 0, 80), { kind: "refuse", reply: SocksReply.addressTypeNotSupported }],
  ["empty domain", b(5, 1, 0, 3, 0, 0, 80), { kind: "refuse", reply: SocksReply.hostUnreachable }],
  ["oversize domain", domain("a".repeat(255)), { kind: "refuse", reply: SocksReply.hostUnreachable }],
  ["domain with a space", domain("bad host"), { kind: "refuse", reply: SocksReply.hostUnreachable }],
  ["port 0", b(5, 1, 0, 1, 10, 0, 0, 1, 0, 0), { kind: "refuse", reply: SocksReply.hostUnreachable }],
];
for (const [name, input, want] of requests) {
  test(`request: ${name}`, () => expect(parseRequest(input)).toMatchObject(want as object));
}

test("replies carry the bound IPv4 address, or 0.0.0.0:0", () => {
  expect(formatReply(SocksReply.succeeded, { address: "127.0.0.1", port: 8080 })).toEqual(b(5, 0, 0, 1, 127, 0, 0, 1, 0x1f, 0x90));
  expect(formatReply(SocksReply.hostUnreachable)).toEqual(b(5, 4, 0, 1, 0, 0, 0, 0, 0, 0));
  expect(formatReply(SocksReply.succeeded, { address: "::1", port: 1 })).toEqual(b(5, 0, 0, 1, 0, 0, 0, 0, 0, 1));
});
