// Filter: RequestRedirect. Answers 3xx (302 unless told) with a Location built
// from the request and the filter: an omitted port follows the scheme (80 for
// http, 443 for https), and is left out of Location when it is the scheme's default.
import type { PathModifier } from "../../xds/waypoint_resources.ts";
import { localReply } from "../local_reply.ts";
import type { Filter, RequestContext } from "../request_context.ts";

/** Answers the first RequestRedirect among the rule's filters. */
export const redirect: Filter = async (ctx, next) => {
  const f = ctx.filters.find((x) => x.type === "RequestRedirect");
  if (!f || f.type !== "RequestRedirect") return next();
  localReply(ctx, f.requestRedirect.statusCode || 302, "", { location: redirectLocation(ctx, f.requestRedirect) });
};

/** The Location of a redirect (pure, for the table test). */
export function redirectLocation(
  ctx: Pick<RequestContext, "upstream" | "route" | "target">,
  r: { scheme?: string; hostname?: string; port?: number; path?: PathModifier },
): string {
  const [host] = splitHostPort(ctx.upstream.authority);
  const scheme = r.scheme ?? "http";
  const defaultPort = scheme === "https" ? 443 : 80;
  // Gateway API: with no port in the filter, the port follows the scheme when the scheme is set,
  // else it is the listener's: in the mesh, the Service port the request was sent to.
  const port = r.port ?? (r.scheme ? defaultPort : ctx.target.port);
  const q = ctx.upstream.path.indexOf("?");
  const path = q < 0 ? ctx.upstream.path : ctx.upstream.path.slice(0, q);
  const query = q < 0 ? "" : ctx.upstream.path.slice(q);
  const newPath = r.path ? modifyPath(path, r.path, matchedPrefix(ctx)) : path;
  const authority = port === defaultPort ? (r.hostname ?? host) : `${r.hostname ?? host}:${port}`;
  return `${scheme}://${authority}${newPath}${query}`;
}

/** Applies ReplaceFullPath or ReplacePrefixMatch to a path. */
export function modifyPath(path: string, modifier: PathModifier, prefix: string | undefined): string {
  if (modifier.type === "ReplaceFullPath") return modifier.replaceFullPath;
  if (prefix === undefined) return path;
  const trimmed = prefix.length > 1 && prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  let rest = trimmed === "/" ? path : path.slice(trimmed.length);
  const replacement = modifier.replacePrefixMatch;
  if (replacement.endsWith("/") && rest.startsWith("/")) rest = rest.slice(1);
  if (!replacement.endsWith("/") && rest !== "" && !rest.startsWith("/")) rest = "/" + rest;
  const joined = replacement + rest;
  return joined === "" ? "/" : joined;
}

/** The PathPrefix value the selected route matched on, if it matched on one. */
export function matchedPrefix(ctx: Pick<RequestContext, "route">): string | undefined {
  const p = ctx.route?.entry.match.path;
  return p?.type === "PathPrefix" ? p.value : undefined;
}

function splitHostPort(authority: string): [string] {
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(authority);
  return [m ? m[1]! : authority];
}
