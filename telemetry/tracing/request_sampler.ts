// The sampling decision of a span that starts a hop: a caller's decision is
// kept (its sampled flag, as Envoy keeps x-b3-sampled / traceparent), and a
// trace that starts here is sampled at the percentage the Telemetry API gives
// for this request's Service — carried in the context, so one tracer serves
// Services with different rates. The percentage is dealt, not drawn afresh
// per trace (config/weighted_deal.ts): 10 % samples exactly 1 in each 10.
import { type Context, createContextKey, type Link, type SpanKind, trace } from "@opentelemetry/api";
import { WeightedDeal } from "../../config/weighted_deal.ts";
import { type Sampler, SamplingDecision, type SamplingResult } from "@opentelemetry/sdk-trace";

const SAMPLING_PERCENT = createContextKey("ambit.sampling_percent");

/** Sets the percentage (0–100) a trace started under `context` is sampled at. */
export function withSamplingPercent(context: Context, percent: number): Context {
  return context.setValue(SAMPLING_PERCENT, percent);
}

/** A percentage as a share of a million (Envoy's FractionalPercent MILLION). */
const MILLION = 1_000_000;
/** Distinct percentages kept; a config that churns through more starts over. */
const MAX_DEALS = 64;

/** Parent-based, else dealt at the context's percentage (100 when none is set). */
export class RequestSampler implements Sampler {
  readonly #deals = new Map<number, WeightedDeal>();

  constructor(private readonly random: () => number = Math.random) {}

  shouldSample(context: Context, _traceId: string, _name: string, _kind: SpanKind, _attributes: unknown, _links: Link[]): SamplingResult {
    const parent = trace.getSpanContext(context);
    if (parent && trace.isSpanContextValid(parent)) {
      return { decision: (parent.traceFlags & 1) === 1 ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
    }
    const percent = context.getValue(SAMPLING_PERCENT);
    const p = typeof percent === "number" ? percent : 100;
    return { decision: this.#sampled(p) ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
  }

  #sampled(percent: number): boolean {
    if (!(percent > 0)) return false;
    if (percent >= 100) return true;
    let deal = this.#deals.get(percent);
    if (!deal) {
      if (this.#deals.size >= MAX_DEALS) this.#deals.clear();
      const share = Math.round((percent / 100) * MILLION);
      this.#deals.set(percent, (deal = new WeightedDeal([share, MILLION - share], this.random)));
    }
    return deal.next() === 0;
  }

  toString(): string {
    return "AmbitRequestSampler";
  }
}
