// HTTP/1.1 Upgrade (websocket and the like): once routed, the request head is
// written to a fresh tunnel to the endpoint and the two sockets are joined; the
// endpoint's 101 (or refusal) reaches the client unchanged.
import type { Duplex } from "node:stream";
import type { RequestContext } from "./request_context.ts";
import type { Endpoint } from "./state.ts";
import type { UpstreamSessions } from "./upstream.ts";
import { localReply } from "./local_reply.ts";

/** Joins the client's upgraded socket to a new tunnel to `endpoint`. */
export async function upgradeUpstream(ctx: RequestContext, sessions: UpstreamSessions, endpoint: Endpoint): Promise<void> {
  const client = ctx.upgrade!.socket;
  let upstream: Duplex;
  try {
    upstream = await sessions.tunnel(endpoint);
  } catch (e) {
    ctx.responseFlags.push("UF");
    return localReply(ctx, 503, `upstream connect error: ${(e as Error).message}`);
  }
  const h = ctx.upstream;
  const lines = [`${h.method} ${h.path} HTTP/1.1`, `host: ${h.authority}`];
  for (const [name, value] of Object.entries(h.headers)) for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  upstream.write(lines.join("\r\n") + "\r\n\r\n");
  if (ctx.upgrade!.head.length) upstream.write(ctx.upgrade!.head);
  await new Promise<void>((resolve) => {
    let first = true;
    upstream.on("data", (chunk: Buffer) => {
      if (first) {
        first = false;
        const m = /^HTTP\/1\.1 (\d{3})/.exec(chunk.subarray(0, 16).toString("latin1"));
        ctx.status = m ? Number(m[1]) : 502;
      }
      ctx.responseBytes += chunk.length;
    });
    client.on("data", (chunk: Buffer) => (ctx.requestBytes += chunk.length));
    upstream.pipe(client);
    client.pipe(upstream);
    const done = () => {
      upstream.destroy();
      client.destroy();
      resolve();
    };
    upstream.once("close", done);
    client.once("close", done);
    upstream.on("error", done);
    client.on("error", done);
  });
}
