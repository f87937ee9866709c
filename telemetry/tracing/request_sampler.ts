// The sampling decision of a span that starts a hop: a caller's decision is
// kept (its sampled flag, as Envoy keeps x-b3-sampled / traceparent), and a
// trace that starts here is sampled at the percentage the Telemetry API gives
// for this request's Service — carried in the context, so one tracer serves
// Services with different rates.
import { type Context, createContextKey, type Link, type SpanKind, trace } from "@opentelemetry/api";
import { type Sampler, SamplingDecision, type SamplingResult } from "@opentelemetry/sdk-trace";

const SAMPLING_PERCENT = createContextKey("ambit.sampling_percent");

/** Sets the percentage (0–100) a trace started under `context` is sampled at. */
export function withSamplingPercent(context: Context, percent: number): Context {
  return context.setValue(SAMPLING_PERCENT, percent);
}

/** Parent-based, else random at the context's percentage (100 when none is set). */
export class RequestSampler implements Sampler {
  constructor(private readonly random: () => number = Math.random) {}

  shouldSample(context: Context, _traceId: string, _name: string, _kind: SpanKind, _attributes: unknown, _links: Link[]): SamplingResult {
    const parent = trace.getSpanContext(context);
    if (parent && trace.isSpanContextValid(parent)) {
      return { decision: (parent.traceFlags & 1) === 1 ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
    }
    const percent = context.getValue(SAMPLING_PERCENT);
    const p = typeof percent === "number" ? percent : 100;
    return { decision: p > 0 && this.random() * 100 < p ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
  }

  toString(): string {
    return "AmbitRequestSampler";
  }
}
