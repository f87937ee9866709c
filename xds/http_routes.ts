// delta xDS over HTTP: a Hono sub-app with the two routes of docs/xds.md.
import { Hono } from "hono";
import type { DeltaAck, DeltaStreamRequest, XdsNode } from "./protocol.ts";
import type { DeltaXdsServer } from "./server.ts";

/** Decides whether a caller may act as `node`; returns a refusal message, or undefined to allow. */
export type NodeAuthorizer = (request: Request, env: unknown, node: XdsNode) => string | undefined;

/** `POST /xds/v1/delta` (open a stream) and `POST /xds/v1/delta/ack`. */
export function xdsRoutes(server: DeltaXdsServer, authorize: NodeAuthorizer): Hono {
  const app = new Hono();
  app.post("/xds/v1/delta", async (c) => {
    const request = await c.req.json<DeltaStreamRequest>().catch(() => undefined);
    if (!request?.node?.id || !request.node.nodeName || typeof request.subscriptions !== "object") {
      return c.json({ error: "body must be {node: {id, nodeName}, subscriptions: {typeUrl: {...}}}" }, 400);
    }
    const refusal = authorize(c.req.raw, c.env, request.node);
    if (refusal) return c.json({ error: refusal }, 403);
    const { streamId, body } = server.open(request);
    return new Response(body, {
      headers: { "content-type": "application/x-ndjson", "x-xds-stream-id": streamId, "x-xds-keepalive-ms": String(server.keepaliveMs) },
    });
  });
  app.post("/xds/v1/delta/ack", async (c) => {
    const ack = await c.req.json<DeltaAck>().catch(() => undefined);
    if (!ack?.streamId || !ack.typeUrl || !ack.responseNonce) return c.json({ error: "body must be {streamId, typeUrl, responseNonce, errorDetail?}" }, 400);
    const node = server.nodeOf(ack.streamId);
    if (node === undefined) return c.json({ error: `unknown stream ${ack.streamId}` }, 404);
    const refusal = authorize(c.req.raw, c.env, node);
    if (refusal) return c.json({ error: refusal }, 403);
    return server.ack(ack) ? c.json({ ok: true }) : c.json({ error: `unknown nonce ${ack.responseNonce}` }, 404);
  });
  return app;
}
