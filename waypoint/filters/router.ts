// The last filter: sends the request to an endpoint of the chosen backend and
// streams the answer back. Endpoint choice is the load balancer's; each try
// has `timeouts.backendRequest`, the whole exchange `timeouts.request` (504);
// GEP-1731 retries (and Istio's default: connect failures, twice) go to
// another endpoint when the request has no body (a streamed body is never
// buffered for a retry). Bodies flow with backpressure.
import type { Readable, Writable } from "node:stream";
import { applyHeaderModifier } from "./header_modifier.ts";
import { forwardableResponseHeaders } from "../hop_headers.ts";
import type { LoadBalancer } from "../load_balancer.ts";
import { headersOnly, localReply } from "../local_reply.ts";
import type { Filter, RequestContext } from "../request_context.ts";
import { startExchange, type UpstreamExchange, type UpstreamResponse } from "../upstream_exchange.ts";
import type { UpstreamSessions } from "../upstream.ts";
import { upgradeUpstream } from "../upgrade.ts";

/** What the router needs: the balancer and the downstream connection's upstream sessions. */
export interface RouterDeps {
  readonly lb: LoadBalancer;
  readonly sessions: (ctx: RequestContext) => UpstreamSessions;
}

class Timeout extends Error {}

/** Sends the request upstream. */
export function router(deps: RouterDeps): Filter {
  return async (ctx) => {
    const b = ctx.backend!.backend;
    if (b.kind !== "service") return localReply(ctx, 500, "backend unresolved");
    const endpoints = ctx.state.endpoints(b.service, b.port);
    const poolKey = `${b.service}:${b.port}`;
    if (ctx.upgrade) {
      const ep = deps.lb.pick(poolKey, endpoints);
      if (!ep) return noHealthy(ctx, poolKey);
      ctx.endpoint = ep;
      return upgradeUpstream(ctx, deps.sessions(ctx), ep);
    }
    const protocol = ctx.state.protocolOf(b.service, b.port);
    const useH2 = protocol === "HTTP2" || protocol === "GRPC" || ctx.protocol === "HTTP/2";
    const rule = ctx.route!.rule;
    const retry = ctx.bodiless ? rule.retry : undefined;
    const tried = new Set<string>();
    const deadline = rule.timeouts.requestMs ? Date.now() + rule.timeouts.requestMs : Infinity;
    for (let attempt = 0;; attempt++) {
      const ep = deps.lb.pick(poolKey, endpoints, tried);
      if (!ep) return noHealthy(ctx, poolKey);
      tried.add(ep.key);
      ctx.endpoint = ep;
      ctx.attempts = attempt + 1;
      const finished = deps.lb.started(ep);
      const span = ctx.trace?.attempt(ctx, ep);
      const budget = Math.min(rule.timeouts.backendRequestMs ?? Infinity, deadline - Date.now());
      let exchange: UpstreamExchange | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        if (Number.isFinite(budget)) timer = setTimeout(() => reject(new Timeout()), Math.max(0, budget));
      });
      timedOut.catch(() => {});
      try {
        exchange = await Promise.race([startExchange(deps.sessions(ctx), ep, ctx.upstream, useH2), timedOut]);
        if (attempt === 0) sendBody(ctx, exchange.body);
        else exchange.body.end();
        const res = await Promise.race([exchange.response, timedOut]);
        span?.status(res.status);
        if (retry && attempt < retry.attempts && retry.codes.includes(res.status)) {
          res.body.resume();
          clearTimeout(timer);
          finished();
          if (retry.backoffMs > 0) await new Promise((r) => setTimeout(r, retry.backoffMs));
          continue;
        }
        await Promise.race([respond(ctx, res), timedOut]);
        return;
      } catch (e) {
        exchange?.abort();
        span?.fail(e as Error);
        if (e instanceof Timeout) {
          ctx.responseFlags.push("UT");
          return localReply(ctx, 504, "upstream request timeout");
        }
        if (ctx.res?.headersSent) {
          ctx.responseFlags.push("UR");
          return localReply(ctx, 502, "");
        }
        // Istio's default retry policy retries connect failures twice (retryOn connect-failure,
        // refused-stream), on another endpoint when there is one; a rule's retry sets the count.
        if (ctx.bodiless && attempt < (retry?.attempts ?? 2)) {
          finished();
          await new Promise((r) => setTimeout(r, retry?.backoffMs ?? 25));
          continue;
        }
        ctx.responseFlags.push("UF");
        return localReply(ctx, 503, `upstream connect error: ${(e as Error).message}`);
      } finally {
        clearTimeout(timer);
        finished();
        span?.end();
      }
    }
  };
}

function noHealthy(ctx: RequestContext, poolKey: string) {
  ctx.responseFlags.push("UH");
  localReply(ctx, 503, `no healthy upstream for ${poolKey}`);
}

/** Streams the downstream body into the upstream request, counting bytes. */
function sendBody(ctx: RequestContext, upstream: Writable): void {
  if (ctx.bodiless) {
    upstream.end();
    for (const t of ctx.bodyTaps) t.end();
    return;
  }
  const req = ctx.req as Readable;
  if ((ctx.req.headers.expect ?? "").toString().toLowerCase() === "100-continue") (ctx.res as { writeContinue?: () => void })?.writeContinue?.();
  req.on("data", (chunk: Buffer) => {
    ctx.requestBytes += chunk.length;
    for (const t of ctx.bodyTaps) t.data(chunk);
  });
  req.once("end", () => {
    for (const t of ctx.bodyTaps) t.end();
  });
  req.pipe(upstream);
  req.once("aborted", () => upstream.destroy());
}

/** Writes the upstream response downstream: head with modifiers, body with backpressure, trailers. */
async function respond(ctx: RequestContext, up: UpstreamResponse): Promise<void> {
  const res = ctx.res!;
  const headers = forwardableResponseHeaders(up.headers);
  for (const m of ctx.responseHeaderModifiers) applyHeaderModifier(headers, m);
  ctx.status = up.status;
  const grpcStatus = up.headers["grpc-status"];
  if (grpcStatus !== undefined) ctx.grpcStatus = String(grpcStatus);
  if (ctx.protocol === "HTTP/1.1") delete headers["te"];
  if (up.headersOnly && ctx.protocol === "HTTP/2") {
    up.body.resume();
    return headersOnly(res, up.status, headers);
  }
  res.writeHead(up.status, headers as Record<string, string>);
  await new Promise<void>((resolve, reject) => {
    const body = up.body;
    body.on("data", (chunk: Buffer) => {
      ctx.responseBytes += chunk.length;
      if (!res.write(chunk)) {
        body.pause();
        res.once("drain", () => body.resume());
      }
    });
    body.once("end", () => {
      const trailers = up.trailers();
      if (trailers["grpc-status"] !== undefined) ctx.grpcStatus = String(trailers["grpc-status"]);
      if (Object.keys(trailers).length > 0 && ctx.protocol === "HTTP/2") res.addTrailers(trailers);
      res.end();
      resolve();
    });
    body.once("error", reject);
    res.once("close", () => {
      if (!res.writableFinished) {
        ctx.responseFlags.push("DC");
        body.destroy();
        resolve();
      }
    });
  });
}
