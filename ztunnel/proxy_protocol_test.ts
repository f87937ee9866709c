import { expect, test } from "bun:test";
import { parseProxyV1 } from "./proxy_protocol.ts";

const t = (s: string) => new TextEncoder().encode(s);
const rows: [string, string, object][] = [
  ["IPv4 header", "PROXY TCP4 10.0.0.1 10.0.0.2 5555 8080\r\nGET /", { kind: "ok", consumed: 40, header: { source: { address: "10.0.0.1", port: 5555 }, destination: { address: "10.0.0.2", port: 8080 } } }],
  ["IPv6 header", "PROXY TCP6 ::1 ::2 1 2\r\n", { kind: "ok", header: { destination: { address: "::2", port: 2 } } }],
  ["UNKNOWN", "PROXY UNKNOWN\r\n", { kind: "ok", header: undefined, consumed: 15 }],
  ["partial prefix", "PRO", { kind: "more" }],
  ["partial line", "PROXY TCP4 10.0.0.1", { kind: "more" }],
  ["not a header", "GET / HTTP/1.1\r\n", { kind: "none" }],
  ["empty", "", { kind: "more" }],
  ["binary", "\x16\x03\x01", { kind: "none" }],
  ["family mismatch", "PROXY TCP4 ::1 ::2 1 2\r\n", { kind: "invalid" }],
  ["bad port", "PROXY TCP4 10.0.0.1 10.0.0.2 1 99999\r\n", { kind: "invalid" }],
  ["missing field", "PROXY TCP4 10.0.0.1 10.0.0.2 1\r\n", { kind: "invalid" }],
  ["too long", "PROXY " + "x".repeat(120), { kind: "invalid" }],
];
for (const [name, input, want] of rows) test(`PROXY v1: ${name}`, () => expect(parseProxyV1(t(input))).toMatchObject(want));
