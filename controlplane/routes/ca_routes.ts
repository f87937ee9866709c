// The CA endpoint: a node asks for a workload certificate; it gets one only for
// an identity with at least one workload on that node (istiod's node authorization).
import { Hono } from "hono";
import { type CertificateAuthority, checkCsr, DEFAULT_WORKLOAD_TTL_SECONDS, formatSpiffeId } from "../../identity/mod.ts";
import type { Logger } from "../../telemetry/mod.ts";
import type { DataPlane } from "../dataplane.ts";
import type { NodeRegistry } from "../node_registry.ts";
import { checkNodeMayHoldIdentity } from "../workload_authorization.ts";
import { waypointCertificateRefusal } from "./waypoint_routes.ts";
import type { Env } from "./config_routes.ts";

/** `POST /ca/v1/certificates {csr, validitySeconds, node?}` → `{certChain}` (leaf first, root last). */
export function caRoutes(ca: CertificateAuthority, dataplane: DataPlane, nodes: NodeRegistry, log: Logger): Hono<Env> {
  const app = new Hono<Env>();
  app.post("/ca/v1/certificates", async (c) => {
    const caller = c.get("caller");
    const body = await c.req.json<{ csr?: string; validitySeconds?: number; node?: string; waypoint?: string }>().catch(() => ({} as Record<string, never>));
    // A waypoint (by its token, or a dev caller naming one) may hold only its own identity.
    const waypoint = caller.kind === "waypoint" ? caller.waypoint : caller.kind === "dev" ? body.waypoint : undefined;
    const node = waypoint !== undefined ? "" : caller.kind === "node" ? caller.node : caller.kind === "dev" ? body.node : undefined;
    if (!node && waypoint === undefined) {
      return c.json({ error: caller.kind === "dev" ? "dev callers must name their node in the body" : "a node certificate is required" }, caller.kind === "dev" ? 400 : 401);
    }
    if (typeof body.csr !== "string") return c.json({ error: "body must be {csr: <PEM>, validitySeconds?: number}" }, 400);
    let identity;
    try {
      identity = (await checkCsr(body.csr)).identity;
    } catch (e) {
      return c.json({ error: (e as Error).message }, 400);
    }
    const refusal = waypoint !== undefined ? waypointCertificateRefusal(dataplane, ca.trustDomain, waypoint, identity) : checkNodeMayHoldIdentity(dataplane.snapshot, node!, identity);
    if (refusal) {
      log.warn("ca", "certificate refused", { node, waypoint, identity: formatSpiffeId(identity), reason: refusal });
      return c.json({ error: refusal }, 403);
    }
    try {
      const issued = await ca.sign(body.csr, Number(body.validitySeconds) || DEFAULT_WORKLOAD_TTL_SECONDS);
      // Remembered so that revoking the node refuses this certificate too (a waypoint's token is revoked on its own).
      if (node) await nodes.recordCertificate(node, { serial: issued.serialNumber, notAfter: issued.notAfter.toISOString(), kind: "workload" });
      log.info("ca", "certificate issued", { node, waypoint, identity: formatSpiffeId(identity), serial: issued.serialNumber, expires: issued.notAfter.toISOString() });
      return c.json({ certChain: issued.chainPem, notAfter: issued.notAfter.toISOString() });
    } catch (e) {
      return c.json({ error: (e as Error).message }, 400);
    }
  });
  return app;
}
