// Waypoints at the admin API: their tokens (issue, revoke, list) and what each
// serves and whether its xDS stream is connected (`ambit waypoint list|status`).
import { Hono } from "hono";
import type { SpiffeId } from "../../identity/mod.ts";
import { SERVICE_ROUTES_TYPE_URL, TYPE_URLS } from "../../xds/protocol.ts";
import type { DeltaXdsServer } from "../../xds/server.ts";
import { describeCaller } from "../caller.ts";
import type { DataPlane } from "../dataplane.ts";
import { waypointOf } from "../proxy_views.ts";
import { checkWaypointMayHoldIdentity, WAYPOINT_GATEWAY_CLASS } from "../waypoint_authorization.ts";
import type { WaypointTokens } from "../waypoint_tokens.ts";
import type { Env } from "./config_routes.ts";

/** The CA's check for a waypoint caller: its own Gateway's identity only. */
export function waypointCertificateRefusal(dataplane: DataPlane, trustDomain: string, waypoint: string, identity: SpiffeId): string | undefined {
  return checkWaypointMayHoldIdentity(dataplane.objects, trustDomain, waypoint, identity);
}

/** One waypoint as `ambit waypoint list` shows it. */
export interface WaypointInfo {
  readonly namespace: string;
  readonly name: string;
  /** `istio.io/waypoint-for`. */
  readonly trafficFor: string;
  readonly identity: string;
  /** Service keys it serves. */
  readonly services: readonly string[];
  readonly connected: boolean;
  readonly streams: number;
  readonly token: "active" | "revoked" | "none";
  /** The Gateway's `status.addresses` / instance address, when Ambit knows one. */
  readonly programmed: boolean;
}

/** `/api/v1/waypoints…` (admin only, behind app.ts's /api/v1 guard). */
export function waypointRoutes(tokens: WaypointTokens, dataplane: DataPlane, xds: DeltaXdsServer, trustDomain: string): Hono<Env> {
  const app = new Hono<Env>();
  app.get("/api/v1/waypoints", (c) => {
    const streams = xds.status();
    const tokenState = new Map(tokens.list().map((t) => [t.waypoint, t.state]));
    const served = new Map<string, string[]>();
    for (const r of dataplane.serviceRoutes) served.set(r.waypoint, [...(served.get(r.waypoint) ?? []), r.service]);
    const withAddress = new Set(dataplane.snapshot.workloads.filter((w) => w.nativeTunnel).map((w) => `${w.namespace}/${w.name}`));
    const waypoints: WaypointInfo[] = dataplane.objects
      .filter((o) => o.kind === "Gateway" && (o.spec as { gatewayClassName?: string })?.gatewayClassName === WAYPOINT_GATEWAY_CLASS)
      .map((gw) => {
        const key = `${gw.metadata.namespace}/${gw.metadata.name}`;
        const mine = streams.filter((s) => waypointOf(s.node) === key);
        const instances = dataplane.snapshot.workloads.filter((w) => w.nativeTunnel && w.namespace === gw.metadata.namespace && w.serviceAccount === gw.metadata.name);
        return {
          namespace: gw.metadata.namespace ?? "", name: gw.metadata.name,
          trafficFor: gw.metadata.labels?.["istio.io/waypoint-for"] ?? "service",
          identity: `spiffe://${trustDomain}/ns/${gw.metadata.namespace}/sa/${gw.metadata.name}`,
          services: served.get(key) ?? [],
          connected: mine.some((s) => s.connected),
          streams: mine.length,
          token: tokenState.get(key) ?? "none",
          programmed: instances.length > 0 || withAddress.has(key),
        };
      });
    return c.json({ waypoints });
  });
  // The waypoint's xDS view as the controlplane would send it now: `ambit waypoint config`.
  app.get("/api/v1/waypoints/:namespace/:name/config", (c) => {
    const waypoint = `${c.req.param("namespace")}/${c.req.param("name")}`;
    const view = dataplane.desired({ id: "config-dump", nodeName: "config-dump", metadata: { role: "waypoint", waypoint } });
    const values = (type: string) => [...(view.get(type as never)?.values() ?? [])].map((r) => r.resource);
    return c.json({
      waypoint,
      services: values(TYPE_URLS.service),
      workloads: values(TYPE_URLS.workload),
      routes: values(SERVICE_ROUTES_TYPE_URL),
    });
  });
  app.post("/api/v1/waypoints/:namespace/:name/token", async (c) => {
    const waypoint = `${c.req.param("namespace")}/${c.req.param("name")}`;
    const exists = dataplane.objects.some((o) =>
      o.kind === "Gateway" && `${o.metadata.namespace}/${o.metadata.name}` === waypoint && (o.spec as { gatewayClassName?: string })?.gatewayClassName === WAYPOINT_GATEWAY_CLASS
    );
    if (!exists) return c.json({ error: `no Gateway ${waypoint} with gatewayClassName ${WAYPOINT_GATEWAY_CLASS}` }, 404);
    try {
      return c.json({ waypoint, token: await tokens.issue(waypoint, describeCaller(c.get("caller"))) });
    } catch (e) {
      return c.json({ error: (e as Error).message }, 400);
    }
  });
  app.delete("/api/v1/waypoints/:namespace/:name/token", async (c) => {
    const waypoint = `${c.req.param("namespace")}/${c.req.param("name")}`;
    return (await tokens.revoke(waypoint)) ? c.json({ waypoint, state: "revoked" }) : c.json({ error: `waypoint ${waypoint} has no active token` }, 404);
  });
  app.get("/api/v1/waypoint-tokens", (c) => c.json({ tokens: tokens.list() }));
  return app;
}
