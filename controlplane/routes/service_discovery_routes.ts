// GET /sd/prometheus: the mesh's scrape targets as Prometheus's http_sd_configs
// reads them (a JSON array of {targets, labels}). Served on the plain-HTTP
// metrics listener beside /metrics, so Prometheus needs no credentials; it
// reveals what a scrape of the targets would anyway (node names, proxy
// addresses, waypoint names), never certificates or tokens — see docs/telemetry.md.
import { Hono } from "hono";
import type { KubeObject } from "../../config/objects.ts";
import type { StreamStatus } from "../../xds/server.ts";
import { serviceDiscoveryTargets } from "../service_discovery.ts";
import { findWaypointGateway } from "../waypoint_authorization.ts";

/** The route, reading the xDS streams and the stored Gateways at each request. */
export function serviceDiscoveryRoutes(streams: () => readonly StreamStatus[], objects: () => readonly KubeObject[]): Hono {
  const app = new Hono();
  app.get("/sd/prometheus", (c) => {
    const stored = objects();
    return c.json(serviceDiscoveryTargets(streams(), (namespace, name) => findWaypointGateway(stored, `${namespace}/${name}`) !== undefined));
  });
  return app;
}
