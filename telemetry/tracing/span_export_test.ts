// The exporter against the test receiver (the OpenTelemetry project's own
// decoder) and against collectors that refuse or never answer: spans arrive
// with their links and attributes; a dead collector costs dropped spans, counted.
import { expect, test } from "bun:test";
import * as net from "node:net";
import { ROOT_CONTEXT, SpanKind, trace } from "@opentelemetry/api";
import { startOtlpReceiver } from "../../testing/otlp_receiver.ts";
import { MetricsRegistry } from "../metrics.ts";
import { withSamplingPercent } from "./request_sampler.ts";
import { SpanExport } from "./span_export.ts";

test("spans reach an OTLP/HTTP receiver with parent, attributes and resource", async () => {
  const receiver = await startOtlpReceiver("127.0.0.1");
  const registry = new MetricsRegistry();
  const exp = new SpanExport({ registry, resource: { "service.name": "unit" }, batchDelayMs: 50 });
  const tracer = exp.tracer(receiver.url);
  const parent = tracer.startSpan("parent", { kind: SpanKind.SERVER, attributes: { "http.method": "GET" } }, ROOT_CONTEXT);
  const child = tracer.startSpan("child", { kind: SpanKind.CLIENT }, trace.setSpan(ROOT_CONTEXT, parent));
  child.end();
  parent.end();
  const got = await receiver.waitFor((s) => s.name === "child");
  const p = await receiver.waitFor((s) => s.name === "parent");
  expect(got.parentSpanId).toBe(p.spanId);
  expect(got.traceId).toBe(p.traceId);
  expect(p.attributes["http.method"]).toBe("GET");
  expect(p.service).toBe("unit");
  expect(p.kind).toBe(2);
  await exp.shutdown();
  await receiver.close();
  expect(registry.render()).toContain("ambit_tracing_spans_exported_total 2");
});

test("sampling: 0 % records nothing, a sampled parent is followed", () => {
  const exp = new SpanExport({ registry: new MetricsRegistry(), resource: {} });
  const tracer = exp.tracer("http://127.0.0.1:9/v1/traces");
  const off = tracer.startSpan("x", {}, withSamplingPercent(ROOT_CONTEXT, 0));
  expect(off.isRecording()).toBe(false);
  const parented = trace.setSpanContext(withSamplingPercent(ROOT_CONTEXT, 0), { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1, isRemote: true });
  expect(tracer.startSpan("y", {}, parented).isRecording()).toBe(true);
  const unsampledParent = trace.setSpanContext(withSamplingPercent(ROOT_CONTEXT, 100), { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 0, isRemote: true });
  const z = tracer.startSpan("z", {}, unsampledParent);
  expect(z.isRecording()).toBe(false);
  expect(z.spanContext().traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
  void exp.shutdown();
});

test("a collector that never answers: spans past the bounded queue are dropped and counted", async () => {
  // Accepts TCP and never answers: the worst dead collector (a refused port fails fast).
  const sockets: net.Socket[] = [];
  const blackhole = net.createServer((s) => void sockets.push(s));
  await new Promise<void>((r) => blackhole.listen(0, "127.0.0.1", () => r()));
  const registry = new MetricsRegistry();
  const exp = new SpanExport({ registry, resource: {}, queueSize: 100, batchDelayMs: 10, exportTimeoutMs: 300 });
  const tracer = exp.tracer(`http://127.0.0.1:${(blackhole.address() as net.AddressInfo).port}/v1/traces`);
  for (let i = 0; i < 5000; i++) tracer.startSpan("s", {}, ROOT_CONTEXT).end();
  const dropped = /ambit_tracing_spans_dropped_total\{reason="queue_full"\} (\d+)/.exec(registry.render());
  expect(Number(dropped?.[1])).toBeGreaterThanOrEqual(4900);
  // Once the held posts time out, their spans count as export_failed and the queue takes spans again.
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (/reason="export_failed"\} [1-9]/.test(registry.render())) (clearInterval(poll), resolve());
    }, 20);
  });
  await exp.shutdown();
  for (const s of sockets) s.destroy();
  blackhole.close();
}, 10_000);
