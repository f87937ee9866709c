// Filter: path normalization before any policy looks at the path (Istio's
// BASE normalization: RFC 3986 dot segments resolved, percent-encoded
// unreserved characters decoded). The normalized path is also what goes
// upstream, so a policy and the backend always see the same path: `/api/../admin`
// cannot pass a `/api/*` rule and reach `/admin`.
import { localReply } from "../local_reply.ts";
import type { Filter } from "../request_context.ts";

/** Normalizes `path` (no query); undefined when it cannot be made safe. */
export function normalizePath(path: string): string | undefined {
  if (!path.startsWith("/")) return path;
  let bad = false;
  const decoded = path.replace(/%([0-9a-fA-F]{2})/g, (all, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    if (c === "\0") bad = true;
    return /[A-Za-z0-9\-._~]/.test(c) ? c : all.toUpperCase();
  });
  if (bad) return undefined;
  const out: string[] = [];
  const segments = decoded.split("/").slice(1);
  segments.forEach((s, i) => {
    const last = i === segments.length - 1;
    if (s === ".") {
      if (last) out.push("");
    } else if (s === "..") {
      out.pop();
      if (last) out.push("");
    } else out.push(s);
  });
  return "/" + out.join("/");
}

/** The normalization filter: rewrites the upstream path, 400 for a path that cannot be normalized. */
export const normalizeRequestPath: Filter = (ctx, next) => {
  const url = ctx.upstream.path;
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const normalized = normalizePath(path);
  if (normalized === undefined) {
    localReply(ctx, 400, "bad request path");
    return Promise.resolve();
  }
  if (normalized !== path) ctx.upstream.path = normalized + (q < 0 ? "" : url.slice(q));
  return next();
};
