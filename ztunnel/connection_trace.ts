// One traceparent per connection on HBONE, as istio/ztunnel keeps one per
// connection: outbound makes it (a CLIENT span when spans are exported,
// sampled at --tracing-sampling) and sends it on the CONNECT; inbound
// continues the CONNECT's traceparent with a SERVER span, following the
// caller's sampling flag. Without --tracing-endpoint no span is made, and the
// CONNECT still carries a fresh traceparent as before.
import { ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import { newTraceparent } from "../hbone/mod.ts";
import type { MetricsRegistry } from "../telemetry/mod.ts";
import { formatTraceparent, parseTraceparent, SpanExport, withSamplingPercent } from "../telemetry/tracing/mod.ts";

/** A connection's span: end it once, with the bytes each way and any error. */
export interface ConnectionSpan {
  /** The `traceparent` this connection carries. */
  readonly traceparent: string;
  end(result: { sent: number; received: number; error?: string }): void;
}

type Attributes = Record<string, string | number | undefined>;

/** The ztunnel's connection tracing: off, or spans to one OTLP/HTTP endpoint. */
export class ConnectionTracing {
  readonly #spans: SpanExport | undefined;
  readonly #tracer: Tracer | undefined;

  constructor(options: { endpoint: string; samplingPercent: number; node: string; registry: MetricsRegistry }, private readonly percent = options.samplingPercent) {
    if (!options.endpoint) return;
    this.#spans = new SpanExport({ registry: options.registry, resource: { "service.name": "ztunnel", "k8s.node.name": options.node } });
    this.#tracer = this.#spans.tracer(options.endpoint);
  }

  /** An outbound connection's span (its traceparent goes on the CONNECT). */
  outbound(attributes: Attributes): ConnectionSpan {
    if (!this.#tracer) return { traceparent: newTraceparent(), end: () => {} };
    const span = this.#tracer.startSpan("outbound connection", { kind: SpanKind.CLIENT, attributes: clean(attributes) }, withSamplingPercent(ROOT_CONTEXT, this.percent));
    return connectionSpan(span);
  }

  /** An inbound tunnel's span, the child of the CONNECT's traceparent (a root when it has none). */
  inbound(traceparent: string | undefined, attributes: Attributes): ConnectionSpan | undefined {
    if (!this.#tracer) return undefined;
    const caller = parseTraceparent(traceparent);
    let parent = withSamplingPercent(ROOT_CONTEXT, this.percent);
    if (caller) parent = trace.setSpanContext(parent, { traceId: caller.traceId, spanId: caller.spanId, traceFlags: caller.sampled ? 1 : 0, isRemote: true });
    return connectionSpan(this.#tracer.startSpan("inbound connection", { kind: SpanKind.SERVER, attributes: clean(attributes) }, parent));
  }

  /** Flushes and stops export (drain). */
  shutdown(): Promise<void> {
    return this.#spans?.shutdown() ?? Promise.resolve();
  }
}

function connectionSpan(span: Span): ConnectionSpan {
  const sc = span.spanContext();
  let ended = false;
  return {
    traceparent: formatTraceparent({ traceId: sc.traceId, spanId: sc.spanId, sampled: (sc.traceFlags & 1) === 1 }),
    end: (r) => {
      if (ended) return;
      ended = true;
      span.setAttributes({ "bytes.sent": r.sent, "bytes.received": r.received });
      if (r.error) span.setAttribute("error", true).setStatus({ code: SpanStatusCode.ERROR, message: r.error });
      span.end();
    },
  };
}

function clean(a: Attributes): Record<string, string | number> {
  return Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as Record<string, string | number>;
}
