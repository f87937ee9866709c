// Answers the waypoint gives itself (404 no route, 500 unresolved backend, 503
// no healthy upstream, 504 timeout, redirects): one place that writes them, to
// a response or to the raw socket of an upgrade.
import type { DownstreamResponse, RequestContext } from "./request_context.ts";

/** Sends a local reply unless something was already sent; records the status. */
export function localReply(ctx: RequestContext, status: number, body: string, headers: Record<string, string> = {}): void {
  ctx.status = status;
  const text = body ? body + "\n" : "";
  ctx.responseBytes += Buffer.byteLength(text);
  if (ctx.upgrade) {
    const lines = Object.entries({ "content-type": "text/plain", "content-length": String(Buffer.byteLength(text)), ...headers, connection: "close" })
      .map(([k, v]) => `${k}: ${v}\r\n`).join("");
    ctx.upgrade.socket.end(`HTTP/1.1 ${status} ${reason(status)}\r\n${lines}\r\n${text}`);
    return;
  }
  const res = ctx.res!;
  if (res.headersSent) {
    // Too late for a status: end the stream so the client sees the failure.
    (res as { destroy?: (e?: Error) => void }).destroy?.();
    return;
  }
  if (ctx.grpc && status >= 400) {
    // gRPC clients read grpc-status, not the HTTP status: answer as Envoy does (trailers-only).
    ctx.grpcStatus = String(grpcStatusFor(status));
    headersOnly(res, 200, { "content-type": "application/grpc", "grpc-status": ctx.grpcStatus, "grpc-message": encodeURIComponent(body) });
    return;
  }
  res.writeHead(status, { "content-type": "text/plain", "content-length": String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/**
 * A response that is its head alone. On HTTP/2 it is one HEADERS frame with
 * END_STREAM — gRPC's trailers-only form, which clients read the status from;
 * node's compatibility writeHead()+end() would add an empty DATA frame instead.
 */
export function headersOnly(res: DownstreamResponse, status: number, headers: Record<string, string | string[]>): void {
  if (res.stream) {
    res.stream.respond({ ...headers, ":status": status }, { endStream: true });
    return;
  }
  res.writeHead(status, headers);
  res.end();
}

/** Envoy's HTTP → gRPC status mapping. */
export function grpcStatusFor(status: number): number {
  if (status === 400) return 13;
  if (status === 401) return 16;
  if (status === 403) return 7;
  if (status === 404) return 12;
  if (status === 429 || status === 502 || status === 503 || status === 504) return 14;
  return 2;
}

function reason(status: number): string {
  return ({ 301: "Moved Permanently", 302: "Found", 303: "See Other", 307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout" } as Record<number, string>)[status] ?? "Status";
}
