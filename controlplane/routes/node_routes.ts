// Nodes without Kubernetes: join tokens (admin), joining with a token to get a
// node certificate (anyone holding a valid token), and proxy status (admin).
import { Hono } from "hono";
import { type CertificateAuthority, nodeUri } from "../../identity/mod.ts";
import type { DeltaXdsServer } from "../../xds/server.ts";
import { describeCaller } from "../caller.ts";
import type { NodeRegistry } from "../node_registry.ts";
import type { Env } from "./config_routes.ts";

/** How long a node certificate lasts; nodes re-join with their token at half life. */
export const NODE_CERT_TTL_SECONDS = 24 * 3600;

/** Node routes: /api/v1/nodes… (admin) and /nodes/v1/join (join token). */
export function nodeRoutes(
  nodes: NodeRegistry, ca: CertificateAuthority, xds: DeltaXdsServer,
  /** Kubernetes mode: a ServiceAccount token → the node it was issued on, when the API server vouches for it. */
  reviewNodeToken?: (token: string) => Promise<{ node: string; who: string } | undefined>,
): Hono<Env> {
  const app = new Hono<Env>();
  app.post("/api/v1/nodes/:node/token", async (c) => {
    const node = c.req.param("node");
    try {
      nodeUri(ca.trustDomain, node);
    } catch (e) {
      return c.json({ error: (e as Error).message }, 400);
    }
    return c.json({ node, token: await nodes.createToken(node, describeCaller(c.get("caller"))) });
  });
  app.delete("/api/v1/nodes/:node/token", async (c) => {
    const node = c.req.param("node");
    return (await nodes.revoke(node)) ? c.json({ node, state: "revoked" }) : c.json({ error: `unknown node ${node}` }, 404);
  });
  app.get("/api/v1/nodes", (c) => c.json({ nodes: nodes.list() }));
  app.get("/api/v1/proxy-status", (c) => c.json({ proxies: xds.status(), nodes: nodes.list() }));

  app.post("/nodes/v1/join", async (c) => {
    const token = /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "")?.[1];
    let node = token ? nodes.verifyToken(token) : undefined;
    if (!node && token && reviewNodeToken) {
      const reviewed = await reviewNodeToken(token).catch(() => undefined);
      if (reviewed && await nodes.admit(reviewed.node, reviewed.who)) node = reviewed.node;
    }
    if (!node) return c.json({ error: "a valid, unrevoked join token is required (Authorization: Bearer <token>)" }, 401);
    const body = await c.req.json<{ csr?: string }>().catch(() => ({} as { csr?: string }));
    if (typeof body.csr !== "string") return c.json({ error: "body must be {csr: <PEM>}" }, 400);
    try {
      const issued = await ca.signUri(body.csr, nodeUri(ca.trustDomain, node), NODE_CERT_TTL_SECONDS);
      await nodes.markJoined(node);
      return c.json({ node, certChain: issued.chainPem, trustBundle: ca.trustBundlePem, notAfter: issued.notAfter.toISOString() });
    } catch (e) {
      return c.json({ error: (e as Error).message }, 400);
    }
  });
  return app;
}
