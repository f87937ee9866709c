import * as assert from "node:assert/strict";
import { test } from "bun:test";
import { ROOT_CONTEXT, SpanKind, trace } from "@opentelemetry/api";
import { SamplingDecision } from "@opentelemetry/sdk-trace";
import { RequestSampler, withSamplingPercent } from "./request_sampler.ts";

const sampledOf = (sampler: RequestSampler, percent: number | undefined, n: number) => {
  const context = percent === undefined ? ROOT_CONTEXT : withSamplingPercent(ROOT_CONTEXT, percent);
  let sampled = 0;
  for (let i = 0; i < n; i++) if (sampler.shouldSample(context, "", "x", SpanKind.SERVER, {}, []).decision === SamplingDecision.RECORD_AND_SAMPLED) sampled++;
  return sampled;
};

test("RequestSampler: a trace started here is sampled at exactly the percentage over each cycle", () => {
  const cases: [string, number | undefined, number, number][] = [
    ["0 %", 0, 1000, 0],
    ["100 %", 100, 1000, 1000],
    ["none set is 100 %", undefined, 10, 10],
    ["10 %: 100 of 1,000", 10, 1000, 100],
    ["0.5 %: 5 of 1,000", 0.5, 1000, 5],
    ["33.3 %: 333 of 1,000", 33.3, 1000, 333],
    ["negative is 0", -1, 100, 0],
    ["NaN is 0", Number.NaN, 100, 0],
    ["over 100 is 100", 150, 100, 100],
  ];
  for (const [label, percent, n, want] of cases) assert.equal(sampledOf(new RequestSampler(), percent, n), want, label);
});

test("RequestSampler: a caller's decision is kept, whatever the percentage", () => {
  const sampler = new RequestSampler();
  for (const [flags, percent, want] of [[1, 0, SamplingDecision.RECORD_AND_SAMPLED], [0, 100, SamplingDecision.NOT_RECORD]] as const) {
    const context = trace.setSpanContext(withSamplingPercent(ROOT_CONTEXT, percent), { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: flags, isRemote: true });
    assert.equal(sampler.shouldSample(context, "", "x", SpanKind.SERVER, {}, []).decision, want, `flags ${flags} at ${percent} %`);
  }
});

test("RequestSampler: interleaved percentages each keep their own count; churn past 64 starts over", () => {
  const sampler = new RequestSampler();
  let a = 0, b = 0;
  for (let i = 0; i < 100; i++) {
    a += sampledOf(sampler, 10, 1);
    b += sampledOf(sampler, 50, 1);
  }
  assert.deepEqual([a, b], [10, 50]);
  for (let p = 1; p <= 70; p++) sampledOf(sampler, p + 0.25, 1);
  assert.equal(sampledOf(sampler, 10, 1000), 100);
});
