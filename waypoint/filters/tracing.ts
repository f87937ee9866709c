// The first filter: continues the caller's trace (W3C traceparent) or starts
// one at the Service's sampling percentage, as the Telemetry API says, and
// makes the request's server span. A `tracestate` or `baggage` past the
// specs' bounds is dropped rather than passed on. The ztunnel's per-connection
// traceparent (on the HBONE CONNECT) is not the request's parent — many
// requests share a connection — so the server span links to it instead.
import { type Link, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { boundedBaggage, boundedTracestate, parseTraceparent, type SpanExport, withSamplingPercent } from "../../telemetry/tracing/mod.ts";
import type { Filter } from "../request_context.ts";
import { type ProxyNode, RequestTrace } from "../request_trace.ts";
import { telemetryFor } from "../telemetry_policy.ts";

/** What the filter needs: the process's span export and who this proxy is. */
export interface TracingDeps {
  readonly spans: SpanExport;
  readonly node: ProxyNode;
}

/** Starts the request's trace when its Service has tracing on. */
export function tracing(deps: TracingDeps): Filter {
  return (ctx, next) => {
    const headers = ctx.upstream.headers;
    for (const [name, bounded] of [["tracestate", boundedTracestate], ["baggage", boundedBaggage]] as const) {
      if (headers[name] === undefined) continue;
      const kept = bounded(headers[name]);
      if (kept === undefined) delete headers[name];
      else headers[name] = kept;
    }
    const t = telemetryFor(ctx.state, ctx.target.key)?.tracing;
    if (!t) return next();
    const caller = parseTraceparent(ctx.req.headers.traceparent);
    if (!caller) delete headers.tracestate;
    let parent = withSamplingPercent(ROOT_CONTEXT, t.randomSamplingPercentage);
    if (caller) {
      parent = trace.setSpanContext(parent, { traceId: caller.traceId, spanId: caller.spanId, traceFlags: caller.sampled ? 1 : 0, isRemote: true });
    }
    const links: Link[] = [];
    const tunnel = parseTraceparent(ctx.tunnel.traceparent);
    if (tunnel) links.push({ context: { traceId: tunnel.traceId, spanId: tunnel.spanId, traceFlags: tunnel.sampled ? 1 : 0, isRemote: true }, attributes: { "link.kind": "hbone_connection" } });
    ctx.trace = RequestTrace.start(deps.spans.tracer(t.provider.endpoint), ctx, parent, links, deps.node, t.customTags);
    return next();
  };
}
