// Span export for a proxy: one OpenTelemetry tracer per collector endpoint,
// each batching into a bounded queue and posting OTLP/HTTP protobuf. Export
// never touches the request path: a slow or dead collector costs only the
// spans that did not fit or did not arrive, and each one is counted
// (`ambit_tracing_spans_dropped_total{reason}`), never retried into memory.
import type { Context, Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, type ReadableSpan, type Span, type SpanExporter, type SpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import type { Metric, MetricsRegistry } from "../metrics.ts";
import { RequestSampler } from "./request_sampler.ts";

/** Options for {@link SpanExport}. */
export interface SpanExportOptions {
  readonly registry: MetricsRegistry;
  /** OTel resource attributes: `service.name` and the like. */
  readonly resource: Readonly<Record<string, string>>;
  /** Spans held (queued or being sent) per endpoint; past it new spans are dropped. Default 2048. */
  readonly queueSize?: number;
  /** How long a batch waits to fill, ms. Default 1000. */
  readonly batchDelayMs?: number;
  /** One POST's deadline, ms. Default 5000. */
  readonly exportTimeoutMs?: number;
}

/** The tracers of one process, by OTLP/HTTP endpoint (`http://host:port/v1/traces`). */
export class SpanExport {
  readonly #providers = new Map<string, TracerProvider>();
  readonly #exported: Metric;
  readonly #dropped: Metric;

  constructor(private readonly options: SpanExportOptions) {
    this.#exported = options.registry.counter("ambit_tracing_spans_exported_total", "Spans a collector accepted", []);
    this.#dropped = options.registry.counter("ambit_tracing_spans_dropped_total", "Spans lost: queue_full (the bounded queue was full) or export_failed (the collector refused, timed out or was unreachable)", ["reason"]);
  }

  /** The tracer exporting to `endpoint`, made on first use. */
  tracer(endpoint: string): Tracer {
    let provider = this.#providers.get(endpoint);
    if (!provider) {
      const queueSize = this.options.queueSize ?? 2048;
      const exporter = new CountingExporter(
        new OTLPTraceExporter({ url: endpoint, timeoutMillis: this.options.exportTimeoutMs ?? 5000, concurrencyLimit: 4 }),
        (n) => this.#exported.inc({}, n),
        (n) => this.#dropped.inc({ reason: "export_failed" }, n),
      );
      const batch = new BatchSpanProcessor({
        exporter,
        // The bound is kept by BoundedQueue (it counts what it drops); the SDK's own must never bite first.
        maxQueueSize: queueSize + 1,
        maxExportBatchSize: Math.min(512, queueSize),
        scheduledDelayMillis: this.options.batchDelayMs ?? 1000,
        exportTimeoutMillis: (this.options.exportTimeoutMs ?? 5000) + 1000,
      });
      const bounded = new BoundedQueue(batch, exporter, queueSize, () => this.#dropped.inc({ reason: "queue_full" }));
      // A header-valued tag or a long URL must not make a queued span large: 2,048 of them stay a few MiB.
      const spanLimits = { attributeValueLengthLimit: 1024, attributeCountLimit: 64, linkCountLimit: 4 };
      provider = new TracerProvider({ resource: resourceFromAttributes(this.options.resource), sampler: new RequestSampler(), spanLimits, spanProcessors: [bounded] });
      this.#providers.set(endpoint, provider);
    }
    return provider.getTracer("ambit", "0.1.0");
  }

  /** Sends what is queued (tests, drain). */
  async flush(): Promise<void> {
    await Promise.all([...this.#providers.values()].map((p) => p.forceFlush().catch(() => {})));
  }

  /** Flushes and stops every tracer. */
  async shutdown(): Promise<void> {
    await Promise.all([...this.#providers.values()].map((p) => p.shutdown().catch(() => {})));
    this.#providers.clear();
  }
}

/** Wraps the OTLP exporter to count each batch's fate and release its queue slots. */
class CountingExporter implements SpanExporter {
  onSettled: (n: number) => void = () => {};

  constructor(private readonly inner: SpanExporter, private readonly ok: (n: number) => void, private readonly failed: (n: number) => void) {}

  export(spans: ReadableSpan[], done: Parameters<SpanExporter["export"]>[1]): void {
    let settled = false;
    this.inner.export(spans, (result) => {
      if (settled) return;
      settled = true;
      if (result.code === 0) this.ok(spans.length);
      else this.failed(spans.length);
      this.onSettled(spans.length);
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** Holds at most `size` sampled spans between their end and their export's result. */
class BoundedQueue implements SpanProcessor {
  #held = 0;

  constructor(private readonly inner: SpanProcessor, exporter: CountingExporter, private readonly size: number, private readonly dropped: () => void) {
    exporter.onSettled = (n) => {
      this.#held = Math.max(0, this.#held - n);
    };
  }

  onStart(span: Span, context: Context): void {
    this.inner.onStart(span, context);
  }

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & 1) === 0) return;
    if (this.#held >= this.size) return this.dropped();
    this.#held++;
    this.inner.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}
