// Filter: AuthorizationPolicy CUSTOM, through Envoy's ext_authz HTTP protocol
// (Istio's envoyExtAuthzHttp provider). For each CUSTOM policy that matches,
// the waypoint asks the provider: the same method, the path under pathPrefix,
// no body, and only the headers the provider lists (plus Host, Method, Path,
// Content-Length and Authorization, which Envoy always sends). 200 allows and
// may add headers upstream; any other status is the answer sent back, with the
// headers the provider lets through. An unreachable or slow provider is a
// failure: allowed when failOpen, else statusOnError (403 by default).
import * as http from "node:http";
import type { Logger } from "../../telemetry/mod.ts";
import type { ExtAuthzHttpProvider } from "../../xds/l7_policy_resources.ts";
import { customPoliciesFor, wildcard } from "../l7_authorization.ts";
import { extAuthzProvider, l7PolicyFor, requestFacts } from "../l7_context.ts";
import { localReply } from "../local_reply.ts";
import type { Filter, RequestContext } from "../request_context.ts";

/** What the provider answered: a status, its headers (lower-case), and its body. */
export interface CheckResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const ALWAYS_SENT = ["authorization", "content-length"];

/** The CUSTOM filter. */
export function extAuthz(deps: { readonly log?: Logger } = {}): Filter {
  return async (ctx, next) => {
    const policies = l7PolicyFor(ctx.state, ctx.target.key).authorizations;
    if (!policies.some((p) => p.action === "CUSTOM")) return next();
    const matching = customPoliciesFor(policies, requestFacts(ctx));
    const asked = new Set<string>();
    for (const policy of matching) {
      const name = policy.provider ?? "";
      if (asked.has(name)) continue;
      asked.add(name);
      const provider = extAuthzProvider(ctx.state, name);
      const key = `${policy.namespace}/${policy.name}`;
      if (!provider) {
        // Istio: a CUSTOM policy whose provider is not in the mesh config denies what it matches.
        deps.log?.warn("authz", "CUSTOM policy names an unknown provider; denying", { id: ctx.id, policy: key, provider: name });
        ctx.responseFlags.push("UAEX");
        return localReply(ctx, 403, "RBAC: access denied");
      }
      let answer: CheckResponse;
      try {
        answer = await check(provider, ctx);
      } catch (e) {
        deps.log?.warn("authz", "ext_authz check failed", { id: ctx.id, provider: name, error: (e as Error).message, failOpen: provider.failOpen });
        if (provider.failOpen) continue;
        ctx.responseFlags.push("UAEX");
        return localReply(ctx, provider.statusOnError, "");
      }
      if (answer.status !== 200) {
        deps.log?.info("authz", "request denied by ext_authz", { id: ctx.id, policy: key, provider: name, status: answer.status });
        ctx.responseFlags.push("UAEX");
        return deny(ctx, provider, answer);
      }
      for (const [h, v] of pick(answer.headers, provider.headersToUpstreamOnAllow)) ctx.upstream.headers[h] = v;
      const down = pick(answer.headers, provider.headersToDownstreamOnAllow);
      if (down.length > 0) ctx.responseHeaderModifiers.push({ set: down.map(([name, value]) => ({ name, value })), add: [], remove: [] });
    }
    return next();
  };
}

function deny(ctx: RequestContext, provider: ExtAuthzHttpProvider, answer: CheckResponse): void {
  const headers = Object.fromEntries(pick(answer.headers, provider.headersToDownstreamOnDeny));
  // The provider's body and content type are the client's answer, as in Envoy.
  if (answer.headers["content-type"]) headers["content-type"] = answer.headers["content-type"];
  const status = answer.status >= 200 && answer.status <= 599 ? answer.status : 403;
  ctx.status = status;
  localReply(ctx, status, answer.body.replace(/\n$/, ""), headers);
}

/** The provider's response headers whose names a list allows (exact, or `prefix*`). */
function pick(headers: Readonly<Record<string, string>>, allowed: readonly string[]): [string, string][] {
  if (allowed.length === 0) return [];
  const names = allowed.map((a) => a.toLowerCase());
  return Object.entries(headers).filter(([h]) => names.some((n) => wildcard(n, h)));
}

/** One check request over plain HTTP/1.1, bounded by the provider's timeout. */
export function check(provider: ExtAuthzHttpProvider, ctx: RequestContext): Promise<CheckResponse> {
  const sent: Record<string, string> = {};
  const names = [...ALWAYS_SENT, ...provider.includeRequestHeadersInCheck.map((h) => h.toLowerCase())];
  for (const [h, v] of Object.entries(ctx.upstream.headers)) {
    if (names.some((n) => wildcard(n, h))) sent[h] = Array.isArray(v) ? v.join(",") : v;
  }
  for (const [h, v] of Object.entries(provider.includeAdditionalHeadersInCheck)) sent[h.toLowerCase()] = v;
  sent.host = ctx.upstream.authority;
  sent["content-length"] = "0";
  sent["x-forwarded-for"] = ctx.source.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: provider.service,
      port: provider.port,
      method: ctx.upstream.method,
      path: provider.pathPrefix + ctx.upstream.path,
      headers: sent,
      agent: false,
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > 64 * 1024) req.destroy(new Error("check response body over 64 KiB"));
        else chunks.push(c);
      });
      res.on("end", () => {
        const headers: Record<string, string> = {};
        for (const [h, v] of Object.entries(res.headers)) if (v !== undefined) headers[h] = Array.isArray(v) ? v.join(",") : v;
        resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString("utf8") });
      });
      res.on("error", reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${provider.timeoutMs} ms`)), provider.timeoutMs);
    req.once("close", () => clearTimeout(timer));
    req.on("error", reject);
    req.end();
  });
}
