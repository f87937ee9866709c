/** Traces: W3C headers read as a proxy must, the sampling decision, and span export over OTLP/HTTP. @module */
export * from "./trace_context.ts";
export * from "./request_sampler.ts";
export * from "./span_export.ts";
