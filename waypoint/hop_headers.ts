// Which headers cross the waypoint: hop-by-hop headers (RFC 9110 7.6.1, plus
// those a Connection header names) stop here, HTTP/2 pseudo-headers are turned
// into the head's own fields, and `te: trailers` survives for gRPC.
import type { IncomingHttpHeaders } from "node:http";
import type { HeaderMap } from "./request_context.ts";

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "host", "http2-settings"]);

/** Request headers to forward upstream (lower-case names, pseudo-headers and hop-by-hop ones left out). */
export function forwardableHeaders(raw: IncomingHttpHeaders, keepUpgrade = false): HeaderMap {
  const named = connectionNamed(raw.connection);
  const out: HeaderMap = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined || name.startsWith(":")) continue;
    if (HOP_BY_HOP.has(name) || named.has(name)) {
      if (name === "te" && /\btrailers\b/i.test(String(value))) out.te = "trailers";
      if (keepUpgrade && (name === "upgrade" || name === "connection")) out[name] = value as string;
      continue;
    }
    out[name] = value as string | string[];
  }
  return out;
}

/** Response headers to send downstream. */
export function forwardableResponseHeaders(raw: IncomingHttpHeaders | http2Headers): HeaderMap {
  const named = connectionNamed(raw.connection as string | undefined);
  const out: HeaderMap = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined || name.startsWith(":") || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out[name] = value as string | string[];
  }
  return out;
}

type http2Headers = Record<string, string | string[] | number | undefined>;

function connectionNamed(connection: string | string[] | undefined): Set<string> {
  if (!connection) return new Set();
  return new Set(String(connection).toLowerCase().split(",").map((s) => s.trim()).filter(Boolean));
}
