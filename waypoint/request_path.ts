// One request's life at the waypoint: build the context from the tunnel and the
// request head, run the filter chain, and report the result exactly once
// (metrics and access log). A request for a Service this waypoint does not
// serve, or a malformed head, is answered here before any filter runs.
import type * as http from "node:http";
import { randomUUID } from "node:crypto";
import type { Duplex } from "node:stream";
import type { DownstreamConnection } from "./downstream.ts";
import { forwardableHeaders } from "./hop_headers.ts";
import { localReply } from "./local_reply.ts";
import type { DownstreamRequest, DownstreamResponse, RequestContext } from "./request_context.ts";
import type { WaypointState } from "./state.ts";

/** What the request path needs from the app. */
export interface RequestPathDeps {
  readonly state: () => WaypointState;
  readonly chain: (ctx: RequestContext) => Promise<void>;
  readonly record: (ctx: RequestContext) => void;
}

/** Handles one request (or upgrade) from a downstream connection. */
export function handleRequest(deps: RequestPathDeps, conn: DownstreamConnection, req: DownstreamRequest, response?: object, upgrade?: { socket: Duplex; head: Buffer }): void {
  const res = response as DownstreamResponse | undefined;
  const ctx = newContext(deps.state(), conn, req, res, upgrade);
  let recorded = false;
  const record = () => {
    if (recorded) return;
    recorded = true;
    deps.record(ctx);
  };
  if (res) {
    res.once("finish", record);
    res.once("close", () => {
      if (!res.writableFinished && !ctx.responseFlags.includes("DC")) ctx.responseFlags.push("DC");
      record();
    });
  }
  const problem = checkHead(ctx);
  const run = problem ? Promise.resolve(localReply(ctx, 400, problem)) : ctx.target.port === 0 ? Promise.resolve(notServed(ctx)) : deps.chain(ctx);
  run.catch((e: Error) => localReply(ctx, 500, `internal error: ${e.message}`)).finally(() => {
    if (!res) record();
  });
}

function notServed(ctx: RequestContext) {
  ctx.responseFlags.push("NR");
  localReply(ctx, 404, `this waypoint serves no service at ${ctx.tunnel.destination.address}:${ctx.tunnel.destination.port}`);
}

/** Checks node:http leaves to the application (and Bun's parser does not make). */
function checkHead(ctx: RequestContext): string | undefined {
  const h = ctx.req.headers;
  if (ctx.protocol === "HTTP/1.1") {
    if (h.host === undefined) return "missing Host header";
    // node keeps the first of two Host headers; a proxy that trusts a different one than the backend is a smuggling vector.
    let hosts = 0;
    for (let i = 0; i < ctx.req.rawHeaders.length; i += 2) if (ctx.req.rawHeaders[i]!.toLowerCase() === "host") hosts++;
    if (hosts > 1) return "more than one Host header";
    const te = h["transfer-encoding"];
    // Only plain chunked is re-framed safely; anything else is a smuggling risk.
    if (te !== undefined && String(te).toLowerCase().replace(/\s/g, "") !== "chunked") return "unsupported Transfer-Encoding";
  }
  if (!ctx.upstream.path.startsWith("/") && ctx.upstream.method !== "OPTIONS") return "request target must be a path";
  return undefined;
}

function newContext(state: WaypointState, conn: DownstreamConnection, req: DownstreamRequest, res?: DownstreamResponse, upgrade?: { socket: Duplex; head: Buffer }): RequestContext {
  const tunnel = conn.tunnel;
  const isH2 = req.httpVersionMajor === 2;
  const headers = req.headers as http.IncomingHttpHeaders;
  const authority = String((isH2 ? headers[":authority"] : headers.host) ?? headers.host ?? "");
  const target = state.findService(tunnel.destination.address, tunnel.destination.port) ??
    { service: { name: "", namespace: "", hostname: "", vips: [], ports: {}, subjectAltNames: [] }, key: "", port: 0 };
  const contentLength = headers["content-length"];
  const bodiless = isH2
    ? (req as { stream?: { endAfterHeaders?: boolean } }).stream?.endAfterHeaders === true || contentLength === "0"
    : !headers["transfer-encoding"] && (contentLength === undefined || contentLength === "0");
  const forwarded = forwardableHeaders(headers, !!upgrade);
  delete forwarded.expect;
  const requestId = (headers["x-request-id"] as string | undefined) ?? randomUUID();
  forwarded["x-request-id"] = requestId;
  forwarded["x-forwarded-proto"] ??= "http";
  return {
    id: requestId,
    startedAt: performance.now(),
    protocol: isH2 ? "HTTP/2" : "HTTP/1.1",
    req,
    res,
    upgrade,
    tunnel,
    source: tunnel.forwarded.for ?? `${tunnel.peer.address}:${tunnel.peer.port}`,
    state,
    target,
    grpc: String(headers["content-type"] ?? "").startsWith("application/grpc"),
    bodiless,
    upstream: { method: req.method ?? "GET", path: req.url ?? "/", authority, headers: forwarded },
    filters: [],
    responseHeaderModifiers: [],
    bodyTaps: [],
    responseFlags: [],
    requestBytes: 0,
    responseBytes: 0,
    attempts: 0,
  };
}
