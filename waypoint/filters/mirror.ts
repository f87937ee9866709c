// Filter: RequestMirror. A copy of the request goes to the mirror backend and
// its answer is thrown away; the copy never slows the real request: its body
// is a tap on the router's stream that gives up (resets the copy) rather than
// wait for the mirror, holding at most 64 KiB while the copy connects.
import type { LoadBalancer } from "../load_balancer.ts";
import type { Filter, RequestContext } from "../request_context.ts";
import { startExchange, type UpstreamExchange } from "../upstream_exchange.ts";
import type { UpstreamSessions } from "../upstream.ts";

const MAX_PENDING = 64 * 1024;

/** Starts one mirrored copy per RequestMirror filter (sampled by its percent). */
export function mirror(deps: { lb: LoadBalancer; sessions: (ctx: RequestContext) => UpstreamSessions; random?: () => number }): Filter {
  const random = deps.random ?? Math.random;
  return async (ctx, next) => {
    for (const f of ctx.filters) {
      if (f.type !== "RequestMirror" || ctx.upgrade) continue;
      const { backend, percent } = f.requestMirror;
      if (backend.kind !== "service" || random() * 100 >= percent) continue;
      const ep = deps.lb.pick(`${backend.service}:${backend.port}`, ctx.state.endpoints(backend.service, backend.port));
      if (!ep) continue;
      const head = { ...ctx.upstream, headers: { ...ctx.upstream.headers } };
      const protocol = ctx.state.protocolOf(backend.service, backend.port);
      let exchange: UpstreamExchange | undefined;
      let pending: Buffer[] | undefined = [];
      let pendingBytes = 0;
      let ended = false;
      let dropped = false;
      ctx.bodyTaps.push({
        data(chunk) {
          if (dropped) return;
          if (exchange) {
            if (!exchange.body.write(chunk)) (dropped = true, exchange.abort());
            return;
          }
          pendingBytes += chunk.length;
          if (pendingBytes > MAX_PENDING) dropped = true;
          else pending!.push(chunk);
        },
        end() {
          ended = true;
          if (exchange && !dropped) exchange.body.end();
        },
      });
      void startExchange(deps.sessions(ctx), ep, head, protocol !== "HTTP" || ctx.protocol === "HTTP/2").then((x) => {
        x.response.then((r) => r.body.resume(), () => {});
        if (dropped) return x.abort();
        exchange = x;
        for (const c of pending!) x.body.write(c);
        pending = undefined;
        if (ended) x.body.end();
      }, () => {});
    }
    return next();
  };
}
