import { expect, test } from "bun:test";
import { formatAuthority, formatBaggage, formatForwarded, isValidTraceparent, newTraceparent, parseAuthority, parseBaggage, parseForwarded } from "./headers.ts";

const authorities: [string | undefined, { address: string; port: number } | undefined][] = [
  ["10.0.0.1:8080", { address: "10.0.0.1", port: 8080 }],
  ["[::1]:443", { address: "::1", port: 443 }],
  ["[fd00::5]:1", { address: "fd00::5", port: 1 }],
  ["127.0.0.1:65535", { address: "127.0.0.1", port: 65535 }],
  ["127.0.0.1:65536", undefined],
  ["127.0.0.1:0", undefined],
  ["reviews.default.svc:9080", undefined],
  ["10.0.0.1", undefined],
  ["::1:80", undefined],
  ["[10.0.0.1]:80", undefined],
  ["999.1.1.1:80", undefined],
  ["", undefined],
  [undefined, undefined],
];
for (const [input, want] of authorities) {
  test(`authority ${JSON.stringify(input)}`, () => {
    expect(parseAuthority(input)).toEqual(want);
    if (want) expect(formatAuthority(want)).toBe(input!);
  });
}

test("baggage round-trips and ignores malformed members", () => {
  const header = formatBaggage({ "k8s.namespace.name": "default", "service.name": "sleep", "service.version": undefined, "k8s.pod.name": "a b" });
  expect(header).toBe("k8s.namespace.name=default,service.name=sleep,k8s.pod.name=a%20b");
  expect(parseBaggage(header)).toEqual({ "k8s.namespace.name": "default", "service.name": "sleep", "k8s.pod.name": "a b" });
  expect(parseBaggage("a=1;prop=x, =2,b,c=%zz")).toEqual({ a: "1", c: "%zz" });
});

test("forwarded round-trips", () => {
  const h = formatForwarded({ for: "10.0.0.1:3333", host: "reviews.default.svc.cluster.local" });
  expect(h).toBe(`for="10.0.0.1:3333";host=reviews.default.svc.cluster.local`);
  expect(parseForwarded(h)).toEqual({ for: "10.0.0.1:3333", host: "reviews.default.svc.cluster.local" });
  expect(parseForwarded(undefined)).toEqual({});
});

test("traceparent is W3C shaped", () => {
  expect(isValidTraceparent(newTraceparent())).toBe(true);
  expect(isValidTraceparent("00-00000000000000000000000000000000-0000000000000001-01")).toBe(false);
  expect(isValidTraceparent("garbage")).toBe(false);
});
