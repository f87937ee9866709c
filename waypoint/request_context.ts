// One request's state as it crosses the filter chain: what came in, what each
// filter decided (route, backend, header changes), and what went out. Filters
// read and write it; the router sends it; the recorder reports it once.
import type * as http from "node:http";
import type * as http2 from "node:http2";
import type { Duplex } from "node:stream";
import type { InboundTunnel } from "../hbone/mod.ts";
import type { HeaderModifier, RouteBackend, RouteFilter } from "../xds/waypoint_resources.ts";
import type { RequestTrace } from "./request_trace.ts";
import type { RouteSelection } from "./select_route.ts";
import type { Endpoint, ServiceTarget, WaypointState } from "./state.ts";

/** The downstream exchange, HTTP/1.1 or HTTP/2, through node's common request/response API. */
export type DownstreamRequest = http.IncomingMessage | http2.Http2ServerRequest;
/** What the waypoint uses of node's ServerResponse / Http2ServerResponse (their common part). */
export interface DownstreamResponse {
  readonly headersSent: boolean;
  readonly writableFinished: boolean;
  writeHead(status: number, headers?: Record<string, string | string[]>): unknown;
  write(chunk: Buffer | string): boolean;
  end(chunk?: Buffer | string): unknown;
  addTrailers(trailers: Record<string, string | string[]>): void;
  once(event: string, listener: () => void): unknown;
  destroy?(error?: Error): void;
  writeContinue?(): void;
  /** HTTP/2 only: the underlying stream (trailers-only answers go through it). */
  readonly stream?: { respond(headers: Record<string, string | string[] | number>, options?: { endStream?: boolean }): void };
}

/** Request headers as forwarded: lower-case names, hop-by-hop ones already gone. */
export type HeaderMap = Record<string, string | string[]>;

/** The request as it will be sent upstream; filters rewrite it. */
export interface UpstreamHead {
  method: string;
  /** Path and query. */
  path: string;
  /** Host (HTTP/1.1) or :authority (HTTP/2). */
  authority: string;
  headers: HeaderMap;
}

/** An HTTP/1.1 Upgrade (websocket): the raw socket, once the route allows it. */
export interface UpgradeRequest {
  readonly socket: Duplex;
  readonly head: Buffer;
}

/** A reader of the request body that never holds it back. */
export interface BodyTap {
  data(chunk: Buffer): void;
  end(): void;
}

/** Everything the chain knows of one request. */
export interface RequestContext {
  readonly id: string;
  readonly startedAt: number;
  readonly protocol: "HTTP/1.1" | "HTTP/2";
  readonly req: DownstreamRequest;
  /** Absent for an upgrade, which answers on the raw socket. */
  readonly res?: DownstreamResponse;
  readonly upgrade?: UpgradeRequest;
  readonly tunnel: InboundTunnel;
  /** The original source, `ip:port` (the tunnel's `forwarded`, else its peer). */
  readonly source: string;
  readonly state: WaypointState;
  readonly target: ServiceTarget;
  /** True for an `application/grpc` request. */
  readonly grpc: boolean;
  /** True when the request carries no body, so it can be retried or mirrored whole. */
  readonly bodiless: boolean;
  readonly upstream: UpstreamHead;
  route?: RouteSelection;
  /** Rule- and backend-level filters to apply, in order (set by route and backend). */
  filters: RouteFilter[];
  backend?: RouteBackend;
  endpoint?: Endpoint;
  readonly responseHeaderModifiers: HeaderModifier[];
  /** Copies of the request body (mirrors): fed by the router as the body streams upstream. */
  readonly bodyTaps: BodyTap[];
  /** What was answered, for metrics and the access log. */
  status?: number;
  grpcStatus?: string;
  /** Envoy-style response flags: NR (no route), UH (no healthy upstream), UT (timeout), UF (connect failure), DC (downstream gone). */
  responseFlags: string[];
  requestBytes: number;
  responseBytes: number;
  attempts: number;
  /** The request's spans, when its Service has tracing on (filters/tracing.ts). */
  trace?: RequestTrace;
}

/** A step of the chain: acts on the context, then calls `next` (or answers and does not). */
export type Filter = (ctx: RequestContext, next: () => Promise<void>) => Promise<void>;

/** Runs filters in order over one context (Hono's compose, for the waypoint's chain). */
export function compose(filters: readonly Filter[]): (ctx: RequestContext) => Promise<void> {
  return (ctx) => {
    let last = -1;
    const dispatch = (i: number): Promise<void> => {
      if (i <= last) return Promise.reject(new Error("next() called twice"));
      last = i;
      const f = filters[i];
      return f ? f(ctx, () => dispatch(i + 1)) : Promise.resolve();
    };
    return dispatch(0);
  };
}
