// One request to one endpoint, HTTP/1.1 or HTTP/2, behind one shape: a
// writable for the request body and a promise of the response head, with the
// body as a readable and trailers once it ends. The router and the mirror use it.
import * as http from "node:http";
import type * as http2 from "node:http2";
import type { Readable, Writable } from "node:stream";
import type { UpstreamHead } from "./request_context.ts";
import type { Endpoint } from "./state.ts";
import type { UpstreamSessions } from "./upstream.ts";

/** The response head, its body and (HTTP/2) trailers. */
export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | number | undefined>;
  readonly body: Readable;
  /** HTTP/2: the response ended with its headers (gRPC trailers-only). */
  readonly headersOnly?: boolean;
  /** Trailers, once the body has ended (empty when there were none). */
  trailers(): Record<string, string | string[]>;
}

/** A request under way. */
export interface UpstreamExchange {
  /** Where the request body goes; end it (or call endBody) when the body is done. */
  readonly body: Writable;
  readonly response: Promise<UpstreamResponse>;
  /** Resets the request (timeout, downstream gone, mirror dropped). */
  abort(): void;
}

/** Starts a request to `endpoint` over the downstream connection's sessions. */
export async function startExchange(sessions: UpstreamSessions, endpoint: Endpoint, head: UpstreamHead, useH2: boolean): Promise<UpstreamExchange> {
  const traceparent = head.headers.traceparent;
  sessions.useTraceparent(typeof traceparent === "string" ? traceparent : undefined);
  return useH2 ? startH2(sessions, endpoint, head) : startH1(sessions, endpoint, head);
}

function startH1(sessions: UpstreamSessions, endpoint: Endpoint, head: UpstreamHead): UpstreamExchange {
  const req = http.request({
    agent: sessions.agent(endpoint),
    method: head.method,
    path: head.path,
    headers: { ...head.headers, host: head.authority },
    setHost: false,
  });
  const response = new Promise<UpstreamResponse>((resolve, reject) => {
    req.once("response", (res: http.IncomingMessage) =>
      resolve({ status: res.statusCode ?? 502, headers: res.headers, body: res, trailers: () => res.trailers as Record<string, string> }));
    // `on`, not `once`: node:http can fail a request twice — "socket hang up" when the endpoint
    // drops the connection mid-body, then the tunnel's reset — and a second 'error' event
    // with no listener would throw out of the HTTP client and end the waypoint.
    req.on("error", reject);
  });
  response.catch(() => {});
  return { body: req, response, abort: () => req.destroy() };
}

async function startH2(sessions: UpstreamSessions, endpoint: Endpoint, head: UpstreamHead): Promise<UpstreamExchange> {
  const session = await sessions.h2(endpoint);
  const stream: http2.ClientHttp2Stream = session.request({
    ...head.headers,
    ":method": head.method,
    ":path": head.path,
    ":authority": head.authority,
    ":scheme": "http",
  });
  let trailers: Record<string, string | string[]> = {};
  stream.once("trailers", (t) => {
    trailers = Object.fromEntries(Object.entries(t).filter(([k]) => !k.startsWith(":"))) as Record<string, string | string[]>;
  });
  const response = new Promise<UpstreamResponse>((resolve, reject) => {
    stream.once("response", (headers) => resolve({ status: Number(headers[":status"] ?? 502), headers, body: stream, // grpc-status in the first HEADERS is gRPC's trailers-only form (Deno does not set endAfterHeaders).
      headersOnly: stream.endAfterHeaders || headers["grpc-status"] !== undefined, trailers: () => trailers }));
    stream.once("error", reject);
    stream.once("close", () => reject(new Error(`upstream stream closed (code ${stream.rstCode})`)));
  });
  response.catch(() => {});
  return { body: stream, response, abort: () => stream.close() };
}
