// Nodes without Kubernetes: join tokens (admin), the first join with a token
// (anyone holding a valid one), renewal with the node certificate itself
// (mTLS), and proxy status (admin).
import { Hono } from "hono";
import { type CertificateAuthority, nodeUri } from "../../identity/mod.ts";
import type { DeltaXdsServer } from "../../xds/server.ts";
import { describeCaller } from "../caller.ts";
import { MAX_JOIN_TOKEN_TTL_SECONDS, type NodeRegistry, NodeRevokedError } from "../node_registry.ts";
import type { Env } from "./config_routes.ts";

/** How long a node certificate lasts; nodes renew it at half life with the certificate itself. */
export const NODE_CERT_TTL_SECONDS = 24 * 3600;

/** Node routes: /api/v1/nodes… (admin), /nodes/v1/join (join token) and /nodes/v1/renew (node certificate). */
export function nodeRoutes(nodes: NodeRegistry, ca: CertificateAuthority, xds: DeltaXdsServer, options: {
    joinTokenTtl: number;
    /** Kubernetes mode: a ServiceAccount token → the node it was issued on, when the API server vouches for it. */
    reviewNodeToken?: (token: string) => Promise<{ node: string; who: string } | undefined>;
  }): Hono<Env> {
  const app = new Hono<Env>();
  app.post("/api/v1/nodes/:node/token", async (c) => {
    const node = c.req.param("node");
    const body = await c.req.json<{ ttlSeconds?: unknown }>().catch(() => ({} as { ttlSeconds?: unknown }));
    const ttl = body.ttlSeconds ?? options.joinTokenTtl;
    if (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_JOIN_TOKEN_TTL_SECONDS) {
      return c.json({ error: `ttlSeconds must be a whole number of seconds from 1 to ${MAX_JOIN_TOKEN_TTL_SECONDS}` }, 400);
    }
    try {
      nodeUri(ca.trustDomain, node);
      return c.json({ node, ...(await nodes.createToken(node, describeCaller(c.get("caller")), ttl)) });
    } catch (e) {
      return c.json({ error: (e as Error).message }, e instanceof NodeRevokedError ? 409 : 400);
    }
  });
  app.delete("/api/v1/nodes/:node/token", async (c) => {
    const node = c.req.param("node");
    const open = xds.status().filter((s) => s.connected && s.node.nodeName === node).length;
    if (!(await nodes.revoke(node))) return c.json({ error: `unknown node ${node}` }, 404);
    // Every replica (this one included) closes the node's streams when the revocation reaches it
    // through the store (NodeRegistry.onRevoked); this closes any that opened meanwhile.
    const closed = Math.max(open, xds.closeNode(node));
    return c.json({ node, state: "revoked", closedStreams: closed });
  });
  app.get("/api/v1/nodes", (c) => c.json({ nodes: nodes.list() }));
  app.get("/api/v1/proxy-status", (c) => c.json({ proxies: xds.status(), nodes: nodes.list() }));

  const issueNodeCertificate = async (node: string, csr: string) => {
    const issued = await ca.signUri(csr, nodeUri(ca.trustDomain, node), NODE_CERT_TTL_SECONDS);
    await nodes.recordCertificate(node, { serial: issued.serialNumber, notAfter: issued.notAfter.toISOString(), kind: "node" });
    return { node, certChain: issued.chainPem, trustBundle: ca.trustBundlePem, notAfter: issued.notAfter.toISOString() };
  };

  app.post("/nodes/v1/join", async (c) => {
    const token = bearer(c.req.header("authorization"));
    let node = token ? nodes.checkToken(token) : undefined;
    // Kubernetes mode: a projected ServiceAccount token is not used up; the API server vouches for it each time.
    let reviewed = false;
    if (!node && token && options.reviewNodeToken) {
      const review = await options.reviewNodeToken(token).catch(() => undefined);
      if (review && await nodes.admit(review.node, review.who)) node = review.node, reviewed = true;
    }
    if (!node) return c.json({ error: "a valid, unused, unexpired join token is required (Authorization: Bearer <token>)" }, 401);
    const body = await c.req.json<{ csr?: string }>().catch(() => ({} as { csr?: string }));
    if (typeof body.csr !== "string") return c.json({ error: "body must be {csr: <PEM>}" }, 400);
    let answer;
    try {
      answer = await issueNodeCertificate(node, body.csr);
    } catch (e) {
      return c.json({ error: (e as Error).message }, 400);
    }
    // Two joins racing with one token: signing is async; using the token up is compare-and-swap, one of them wins.
    if (!reviewed && (await nodes.redeemToken(token!)) !== answer.node) return c.json({ error: "the join token was used meanwhile" }, 401);
    return c.json(answer);
  });
  app.post("/nodes/v1/renew", async (c) => {
    const caller = c.get("caller");
    if (caller.kind !== "node") return c.json({ error: caller.kind === "anonymous" && caller.reason ? caller.reason : "renewing needs the node certificate" }, 401);
    const body = await c.req.json<{ csr?: string }>().catch(() => ({} as { csr?: string }));
    if (typeof body.csr !== "string") return c.json({ error: "body must be {csr: <PEM>}" }, 400);
    try {
      return c.json(await issueNodeCertificate(caller.node, body.csr));
    } catch (e) {
      return c.json({ error: (e as Error).message }, 400);
    }
  });
  return app;
}

function bearer(header: string | undefined): string | undefined {
  return /^Bearer (.+)$/.exec(header ?? "")?.[1];
}
