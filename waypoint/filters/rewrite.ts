// Filter: URLRewrite. Rewrites the upstream authority and path; the route was
// already chosen on the original request, so a rewrite never re-routes.
import type { Filter } from "../request_context.ts";
import { matchedPrefix, modifyPath } from "./redirect.ts";

/** Applies the URLRewrite filters of the rule and backend. */
export const rewrite: Filter = async (ctx, next) => {
  for (const f of ctx.filters) {
    if (f.type !== "URLRewrite") continue;
    const { hostname, path } = f.urlRewrite;
    if (hostname) ctx.upstream.authority = hostname;
    if (path) {
      const q = ctx.upstream.path.indexOf("?");
      const p = q < 0 ? ctx.upstream.path : ctx.upstream.path.slice(0, q);
      const query = q < 0 ? "" : ctx.upstream.path.slice(q);
      ctx.upstream.path = modifyPath(p, path, matchedPrefix(ctx)) + query;
    }
  }
  return next();
};
