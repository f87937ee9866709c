import { expect, test } from "bun:test";
import { boundedBaggage, boundedTracestate, formatTraceparent, parseTraceparent } from "./trace_context.ts";

const T = "4bf92f3577b34da6a3ce929d0e0e4736";
const S = "00f067aa0ba902b7";

const traceparents: [string | string[] | undefined, ReturnType<typeof parseTraceparent>][] = [
  [`00-${T}-${S}-01`, { traceId: T, spanId: S, sampled: true }],
  [`00-${T}-${S}-00`, { traceId: T, spanId: S, sampled: false }],
  [`00-${T}-${S}-03`, { traceId: T, spanId: S, sampled: true }],
  [` 00-${T}-${S}-01 `, { traceId: T, spanId: S, sampled: true }],
  // A later version: read by its first four fields, extra fields allowed.
  [`01-${T}-${S}-01-what-ever`, { traceId: T, spanId: S, sampled: true }],
  // Version 00 with anything after the flags is invalid.
  [`00-${T}-${S}-01-extra`, undefined],
  [`ff-${T}-${S}-01`, undefined],
  [`00-${T.toUpperCase()}-${S}-01`, undefined],
  [`00-${"0".repeat(32)}-${S}-01`, undefined],
  [`00-${T}-${"0".repeat(16)}-01`, undefined],
  [`00-${T}-${S}`, undefined],
  [`00-${T.slice(1)}-${S}-01`, undefined],
  [[`00-${T}-${S}-01`, `00-${T}-${S}-01`], undefined],
  ["", undefined],
  [undefined, undefined],
  [`00-${T}-${S}-01${" ".repeat(300)}`, undefined],
];

test("traceparent: only well-formed values are read", () => {
  for (const [input, want] of traceparents) expect([input, parseTraceparent(input)]).toEqual([input, want]);
});

test("traceparent round-trips", () => {
  expect(formatTraceparent({ traceId: T, spanId: S, sampled: true })).toBe(`00-${T}-${S}-01`);
  expect(parseTraceparent(formatTraceparent({ traceId: T, spanId: S, sampled: false }))).toEqual({ traceId: T, spanId: S, sampled: false });
});

test("tracestate: kept when within the spec's syntax and bounds, dropped whole otherwise", () => {
  expect(boundedTracestate("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")).toBe("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  expect(boundedTracestate(["a=1", "b=2"])).toBe("a=1,b=2");
  expect(boundedTracestate("tenant@vendor=x")).toBe("tenant@vendor=x");
  expect(boundedTracestate("Upper=1")).toBeUndefined();
  expect(boundedTracestate("a=1\r\nx-injected: 1")).toBeUndefined();
  expect(boundedTracestate(Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(","))).toBeUndefined();
  expect(boundedTracestate(`a=${"x".repeat(600)}`)).toBeUndefined();
  expect(boundedTracestate(undefined)).toBeUndefined();
});

test("baggage: passed on unchanged within 8192 bytes and 180 members", () => {
  expect(boundedBaggage("userId=alice,isProduction=false")).toBe("userId=alice,isProduction=false");
  expect(boundedBaggage(`k=${"v".repeat(8200)}`)).toBeUndefined();
  expect(boundedBaggage(Array.from({ length: 181 }, (_, i) => `k${i}=v`).join(","))).toBeUndefined();
  expect(boundedBaggage("a=1\nb=2")).toBeUndefined();
});
