// The waypoint's admin API (loopback only): config dump, stats, logging level,
// quit. Metrics and readiness are telemetry/surfaces.ts.
import { Hono } from "hono";
import { browserGuard } from "../telemetry/admin_guard.ts";
import { type AccessLogRing, AMBIT_VERSION, LOG_LEVELS, type Logger, type LogLevel } from "../telemetry/mod.ts";
import type { WaypointState } from "./state.ts";

/** What the admin API reads. */
export interface WaypointAdminView {
  readonly gateway: string;
  readonly identity: () => string;
  readonly state: () => WaypointState;
  readonly certificate: () => unknown;
  readonly configSource: () => unknown;
  readonly stats: () => unknown;
  readonly log: Logger;
  readonly quit: () => void;
  /** The last access records. */
  readonly accessLog?: AccessLogRing;
}

/** The admin API. */
export function waypointAdminApp(view: WaypointAdminView): Hono {
  const app = new Hono();
  // The same guard as the ztunnel's admin: no cross-site POST /quitquitquit, no DNS-rebinding reads.
  app.use(browserGuard());
  app.get("/", (c) => c.json({ endpoints: ["/version", "/config_dump", "/stats", "/logging", "/quitquitquit", "/debug/access_log"] }));
  app.get("/version", (c) => c.json({ component: "waypoint", version: AMBIT_VERSION, gateway: view.gateway }));
  app.get("/config_dump", (c) => {
    const s = view.state().snapshot;
    return c.json({
      gateway: view.gateway,
      identity: view.identity(),
      config: view.configSource(),
      services: s.services,
      workloads: s.workloads,
      routes: s.routes,
      l7Policies: s.l7Policies,
      extAuthzProviders: s.extAuthzProviders,
      telemetry: s.telemetry ?? [],
      certificate: view.certificate(),
    });
  });
  // The recent access log (a bounded ring), for the controlplane's service-graph page.
  app.get("/debug/access_log", (c) => c.json({ records: view.accessLog?.recent({ workload: c.req.query("workload"), addresses: c.req.queries("address") ?? [], limit: Number(c.req.query("limit") ?? 50) }) ?? [] }));
  app.get("/stats", (c) => c.json(view.stats()));
  app.get("/logging", (c) => c.json({ level: view.log.level }));
  app.post("/logging", (c) => {
    const level = c.req.query("level");
    if (!level || !(LOG_LEVELS as readonly string[]).includes(level)) return c.json({ error: `level must be one of ${LOG_LEVELS.join(", ")}` }, 400);
    view.log.level = level as LogLevel;
    return c.json({ level });
  });
  app.post("/quitquitquit", (c) => {
    setTimeout(view.quit, 10);
    return c.text("OK\n");
  });
  return app;
}
