// Reports each finished request once: Istio's request metrics with
// reporter="waypoint" and one access-log line (Envoy's fields, in ztunnel's
// key=value style).
import { principalOf } from "../identity/mod.ts";
import type { HttpLabels, HttpMetrics } from "../telemetry/http_metrics.ts";
import type { Logger } from "../telemetry/mod.ts";
import type { Workload } from "../xds/resources.ts";
import type { RequestContext } from "./request_context.ts";
import { sourceWorkload } from "./source_workload.ts";

/** Builds the recorder the request path calls once per request. */
export function requestRecorder(metrics: HttpMetrics, log: Logger, accessLog: (ctx: RequestContext) => boolean, reportMetrics: (ctx: RequestContext) => boolean = () => true): (ctx: RequestContext) => void {
  return (ctx) => {
    const durationMs = performance.now() - ctx.startedAt;
    ctx.trace?.end(ctx);
    const report = reportMetrics(ctx);
    if (!report && !accessLog(ctx)) return;
    const labels = requestLabels(ctx);
    if (report) metrics.record(labels, durationMs, ctx.requestBytes, ctx.responseBytes);
    if (!accessLog(ctx)) return;
    log.info("access", "request", {
      src: ctx.source,
      principal: labels.source_principal,
      method: ctx.req.method,
      authority: ctx.upstream.authority,
      path: ctx.req.url,
      protocol: ctx.protocol,
      status: ctx.status ?? 0,
      grpc_status: ctx.grpcStatus,
      flags: ctx.responseFlags.join(",") || "-",
      route: ctx.route ? `${ctx.route.rule.route.kind} ${ctx.route.rule.route.namespace}/${ctx.route.rule.route.name}#${ctx.route.rule.route.rule}` : undefined,
      upstream: ctx.endpoint?.key,
      attempts: ctx.attempts || undefined,
      bytes_in: ctx.requestBytes,
      bytes_out: ctx.responseBytes,
      duration_ms: Math.round(durationMs * 100) / 100,
      request_id: ctx.id,
    });
  };
}

/** Istio's standard labels for one request. */
export function requestLabels(ctx: RequestContext): HttpLabels {
  const peer = ctx.tunnel.peerIdentity;
  const source = sourceWorkload(ctx.state, peer, ctx.source, ctx.tunnel.baggage);
  const dst = ctx.endpoint?.workload;
  const backend = ctx.backend?.backend.kind === "service" ? ctx.state.serviceByKey(ctx.backend.backend.service) : undefined;
  const service = backend ?? (ctx.target.key ? ctx.target.service : undefined);
  return {
    reporter: "waypoint",
    source_workload_namespace: peer.namespace,
    ...workloadLabels("source", source),
    source_principal: `spiffe://${principalOf(peer)}`,
    destination_service: service?.hostname,
    destination_service_namespace: service?.namespace,
    destination_service_name: service?.name,
    ...workloadLabels("destination", dst),
    destination_principal: dst ? `spiffe://${dst.trustDomain}/ns/${dst.namespace}/sa/${dst.serviceAccount}` : undefined,
    request_protocol: ctx.grpc ? "grpc" : "http",
    response_code: String(ctx.status ?? 0),
    grpc_response_status: ctx.grpc ? ctx.grpcStatus : undefined,
    response_flags: ctx.responseFlags.join(",") || "-",
    connection_security_policy: "mutual_tls",
  };
}

function workloadLabels(side: "source" | "destination", w: Workload | undefined): HttpLabels {
  if (!w) return {};
  return {
    [`${side}_workload`]: w.workloadName || w.name,
    [`${side}_canonical_service`]: w.canonicalName,
    [`${side}_canonical_revision`]: w.canonicalRevision,
    [`${side}_workload_namespace`]: w.namespace,
    [`${side}_app`]: w.canonicalName,
    [`${side}_version`]: w.canonicalRevision,
    [`${side}_cluster`]: w.clusterId,
  } as HttpLabels;
}
