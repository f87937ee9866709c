// One request's spans at the waypoint, as Envoy makes them in Istio: a server
// span for the request as it came in, and a client span per upstream attempt
// whose context is what the upstream receives in `traceparent` (and what the
// destination ztunnel's tunnel continues when this attempt opens it). Tags
// carry Envoy's / Istio's names so a trace backend shows what it shows for Istio.
import { type Context, type Link, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import { formatTraceparent } from "../telemetry/tracing/mod.ts";
import type { CustomTag } from "../xds/telemetry_resources.ts";
import type { RequestContext } from "./request_context.ts";
import type { Endpoint } from "./state.ts";

/** What a span says about the proxy that made it. */
export interface ProxyNode {
  /** Istio's node id form: `waypoint~<ip>~<name>.<namespace>~<namespace>.svc.<domain>`. */
  readonly nodeId: string;
  readonly namespace: string;
  readonly canonicalService: string;
}

/** A client span per attempt: report the answer (or failure), then end it. */
export interface AttemptSpan {
  status(code: number): void;
  fail(error: Error): void;
  end(): void;
}

/** The spans of one request. */
export class RequestTrace {
  #ended = false;

  constructor(
    private readonly tracer: Tracer,
    private readonly span: Span,
    private readonly node: ProxyNode,
    private readonly customTags: Readonly<Record<string, CustomTag>>,
  ) {}

  /** Starts the server span of `ctx` under `parent` (the caller's context, or none), linked to the tunnel's. */
  static start(tracer: Tracer, ctx: RequestContext, parent: Context, links: Link[], node: ProxyNode, customTags: Readonly<Record<string, CustomTag>>): RequestTrace {
    const span = tracer.startSpan(`${ctx.target.service.hostname || ctx.upstream.authority}:${ctx.target.port}/*`, {
      kind: SpanKind.SERVER,
      links,
      attributes: {
        "http.method": ctx.upstream.method,
        "http.url": `http://${ctx.upstream.authority}${ctx.upstream.path}`,
        "http.protocol": ctx.protocol,
        "user_agent": String(ctx.req.headers["user-agent"] ?? "-"),
        "guid:x-request-id": ctx.id,
        "downstream_cluster": "-",
        "peer.address": ctx.source.replace(/:\d+$/, ""),
        "source.principal": `spiffe://${ctx.tunnel.peerIdentity.trustDomain}/ns/${ctx.tunnel.peerIdentity.namespace}/sa/${ctx.tunnel.peerIdentity.serviceAccount}`,
        "node_id": node.nodeId,
        "component": "proxy",
        "istio.namespace": node.namespace,
        "istio.canonical_service": node.canonicalService,
      },
    }, parent);
    return new RequestTrace(tracer, span, node, customTags);
  }

  /** True when spans of this request are exported. */
  get sampled(): boolean {
    return this.span.isRecording();
  }

  /** A client span for an attempt to `endpoint`; sets the upstream `traceparent` to it. */
  attempt(ctx: RequestContext, endpoint: Endpoint): AttemptSpan {
    const cluster = upstreamCluster(ctx);
    const span = this.tracer.startSpan(`router ${cluster} egress`, {
      kind: SpanKind.CLIENT,
      attributes: {
        "http.method": ctx.upstream.method,
        "http.url": `http://${ctx.upstream.authority}${ctx.upstream.path}`,
        "http.protocol": ctx.protocol,
        "upstream_cluster": cluster,
        "upstream_cluster.name": cluster,
        "upstream_address": endpoint.key,
        "peer.address": endpoint.address,
        "destination.principal": `spiffe://${endpoint.workload.trustDomain}/ns/${endpoint.workload.namespace}/sa/${endpoint.workload.serviceAccount}`,
        "retry.attempt": ctx.attempts,
        "node_id": this.node.nodeId,
        "component": "proxy",
      },
    }, trace.setSpan(ROOT_CONTEXT, this.span));
    const sc = span.spanContext();
    ctx.upstream.headers.traceparent = formatTraceparent({ traceId: sc.traceId, spanId: sc.spanId, sampled: (sc.traceFlags & 1) === 1 });
    let ended = false;
    return {
      status: (code) => {
        span.setAttribute("http.status_code", code);
        if (code >= 500) span.setAttribute("error", true).setStatus({ code: SpanStatusCode.ERROR });
      },
      fail: (e) => {
        span.setAttribute("error", true).setStatus({ code: SpanStatusCode.ERROR, message: e.message });
      },
      end: () => {
        if (ended) return;
        ended = true;
        span.end();
      },
    };
  }

  /** Ends the server span with what was answered (the request path calls it once). */
  end(ctx: RequestContext): void {
    if (this.#ended) return;
    this.#ended = true;
    const s = this.span;
    if (s.isRecording()) {
      const status = ctx.status ?? 0;
      s.setAttributes({
        "http.status_code": status,
        "request_size": ctx.requestBytes,
        "response_size": ctx.responseBytes,
        "response_flags": ctx.responseFlags.join(",") || "-",
        "upstream_cluster": upstreamCluster(ctx),
        "upstream_cluster.name": upstreamCluster(ctx),
      });
      if (ctx.grpcStatus !== undefined) s.setAttribute("grpc.status_code", ctx.grpcStatus);
      if (ctx.endpoint) s.setAttribute("destination.principal", `spiffe://${ctx.endpoint.workload.trustDomain}/ns/${ctx.endpoint.workload.namespace}/sa/${ctx.endpoint.workload.serviceAccount}`);
      for (const [name, tag] of Object.entries(this.customTags)) {
        const value = customTagValue(tag, ctx);
        if (value !== undefined) s.setAttribute(name, value);
      }
      if (status >= 500 || status === 0) s.setAttribute("error", true).setStatus({ code: SpanStatusCode.ERROR });
    }
    s.end();
  }
}

/** Envoy's cluster name for the chosen backend: `outbound|<port>||<hostname>`. */
function upstreamCluster(ctx: RequestContext): string {
  const b = ctx.backend?.backend;
  if (b?.kind !== "service") return "-";
  const hostname = ctx.state.serviceByKey(b.service)?.hostname ?? b.service.split("/")[1] ?? b.service;
  return `outbound|${b.port}||${hostname}`;
}

/** A custom tag's value for this request, or undefined when it has none. */
export function customTagValue(tag: CustomTag, ctx: RequestContext, env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  if ("literal" in tag) return tag.literal.value;
  if ("environment" in tag) return env[tag.environment.name] ?? tag.environment.defaultValue;
  const v = ctx.req.headers[tag.header.name.toLowerCase()];
  return (Array.isArray(v) ? v.join(",") : v) ?? tag.header.defaultValue;
}
