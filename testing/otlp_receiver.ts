// An OTLP/HTTP trace receiver for tests, decoding with the OpenTelemetry
// project's own protobuf decoder (`@opentelemetry/otlp-transformer@0.57.2`,
// installed as `otlp-transformer-0572`: later versions dropped it). No
// collector, Jaeger or Tempo can be had on these machines; this receiver reads
// what they would (../shared/TEST_PEERS.md).
import * as http from "node:http";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const root = require("otlp-transformer-0572/build/src/generated/root.js");
const ExportTraceServiceRequest = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest as { decode(b: Uint8Array): unknown };

/** One received span, ids in hex, attributes flattened to plain values. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** "" for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  readonly kind: number;
  readonly attributes: Record<string, string | number | boolean>;
  readonly links: readonly { traceId: string; spanId: string }[];
  /** The resource's `service.name`. */
  readonly service: string;
  readonly statusCode: number;
}

/** A running receiver. */
export interface OtlpReceiver {
  /** `http://address:port/v1/traces` */
  readonly url: string;
  readonly address: string;
  readonly port: number;
  readonly spans: ReceivedSpan[];
  /** Resolves with the first span `match` accepts (received already or later), or rejects after `timeoutMs`. */
  waitFor(match: (s: ReceivedSpan) => boolean, timeoutMs?: number): Promise<ReceivedSpan>;
  close(): Promise<void>;
}

const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString("hex") : "");

type AnyValue = { stringValue?: string; boolValue?: boolean; intValue?: number | { toNumber(): number }; doubleValue?: number };
function plain(v: AnyValue | undefined): string | number | boolean {
  if (!v) return "";
  if (v.stringValue !== undefined && v.stringValue !== null) return v.stringValue;
  if (v.boolValue !== undefined && v.boolValue !== null) return v.boolValue;
  if (v.intValue !== undefined && v.intValue !== null) return typeof v.intValue === "number" ? v.intValue : v.intValue.toNumber();
  return v.doubleValue ?? "";
}
const attrs = (list: readonly { key: string; value?: AnyValue }[] | undefined) => Object.fromEntries((list ?? []).map((a) => [a.key, plain(a.value)]));

/** Starts a receiver on `address` (a loopback address), any free port. */
export async function startOtlpReceiver(address: string): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const waiters = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/traces" || !String(req.headers["content-type"]).startsWith("application/x-protobuf")) {
        res.writeHead(404).end();
        return;
      }
      const decoded = ExportTraceServiceRequest.decode(Buffer.concat(chunks)) as {
        resourceSpans?: { resource?: { attributes?: { key: string; value?: AnyValue }[] }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[];
      };
      for (const rs of decoded.resourceSpans ?? []) {
        const service = String(attrs(rs.resource?.attributes)["service.name"] ?? "");
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              traceId: hex(s.traceId as Uint8Array),
              spanId: hex(s.spanId as Uint8Array),
              parentSpanId: hex(s.parentSpanId as Uint8Array),
              name: String(s.name),
              kind: Number(s.kind ?? 0),
              attributes: attrs(s.attributes as { key: string; value?: AnyValue }[]),
              links: ((s.links as { traceId: Uint8Array; spanId: Uint8Array }[] | undefined) ?? []).map((l) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId) })),
              service,
              statusCode: Number((s.status as { code?: number } | undefined)?.code ?? 0),
            });
          }
        }
      }
      res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
      for (const w of waiters) w();
    });
  });
  await new Promise<void>((r) => server.listen(0, address, () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${address}:${port}/v1/traces`,
    address,
    port,
    spans,
    waitFor: (match, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = spans.find(match);
          if (!found) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          const got = spans.map((s) => `${s.service} ${JSON.stringify(s.name)} kind ${s.kind} trace ${s.traceId.slice(0, 8)}`).join("; ");
          reject(new Error(`no matching span within ${timeoutMs} ms (${spans.length} received: ${got})`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      }),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
