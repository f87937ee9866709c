// ztunnel's HTTP surfaces, each a small Hono app: admin (loopback only),
// metrics and readiness. Tests call app.request() without sockets.
import { Hono } from "hono";
import { ADMIN_REQUEST_HEADER, browserGuard } from "../telemetry/admin_guard.ts";
import { type AccessLogRing, AMBIT_VERSION, LOG_LEVELS, type Logger, type LogLevel, type MetricsRegistry } from "../telemetry/mod.ts";
import type { ConnectionPoolStats } from "../hbone/mod.ts";
import type { CertificateInfo } from "./certificates.ts";
import type { ConnectionInfo } from "./connections.ts";
import type { ProxyState } from "./state.ts";
import type { ConnectionFacts } from "./rbac.ts";

export { ADMIN_REQUEST_HEADER };
import { parseSpiffeId } from "../identity/mod.ts";

/** What the admin API reads. */
export interface AdminView {
  readonly node: string;
  readonly state: () => ProxyState;
  readonly certificates: () => CertificateInfo[];
  readonly connections: () => ConnectionInfo[];
  readonly pool: () => ConnectionPoolStats;
  readonly configSource: () => { readonly kind: string; readonly path?: string; readonly lastError?: string; readonly loadedAt?: string; readonly xds?: unknown };
  readonly log: Logger;
  readonly quit: () => void;
  /** Would a connection be allowed, and which policy decides. */
  readonly explain?: (facts: ConnectionFacts) => unknown;
  /** What the xDS client received (controlplane mode). */
  readonly xds?: () => unknown;
  /** The last access records. */
  readonly accessLog?: AccessLogRing;
}

/** The admin API: config dump, connections, logging level, quit. */
export function adminApp(view: AdminView): Hono {
  const app = new Hono();
  app.use(browserGuard());
  app.get("/", (c) => c.json({ endpoints: ["/version", "/config_dump", "/logging", "/quitquitquit", "/debug/connections", "/debug/pool", "/debug/xds", "/debug/access_log"] }));
  app.get("/version", (c) => c.json({ component: "ztunnel", version: AMBIT_VERSION, node: view.node }));
  app.get("/config_dump", (c) => {
    const s = view.state().snapshot;
    return c.json({
      node: view.node,
      config: view.configSource(),
      workloads: s.workloads,
      services: s.services,
      policies: s.policies,
      certificates: view.certificates(),
    });
  });
  app.get("/debug/connections", (c) => c.json({ connections: view.connections() }));
  // The recent access log (a bounded ring), for the controlplane's service-graph page.
  app.get("/debug/access_log", (c) => c.json({ records: view.accessLog?.recent({ workload: c.req.query("workload"), addresses: c.req.queries("address") ?? [], limit: Number(c.req.query("limit") ?? 50) }) ?? [] }));
  app.get("/debug/pool", (c) => c.json(view.pool()));
  app.get("/debug/xds", (c) => (view.xds ? c.json(view.xds()) : c.json({ error: "not in controlplane mode" }, 404)));
  // GET /debug/authorize?source=spiffe://…&sourceIp=…&destination=<workload ip>&port=<p> (no source = plaintext)
  app.get("/debug/authorize", (c) => {
    if (!view.explain) return c.json({ error: "not available" }, 404);
    const q = c.req.query();
    const port = Number(q.port);
    if (!q.destination || !Number.isInteger(port)) return c.json({ error: "destination and port are required" }, 400);
    let sourceIdentity;
    try {
      sourceIdentity = q.source ? parseSpiffeId(q.source) : undefined;
    } catch (e) {
      return c.json({ error: (e as Error).message }, 400);
    }
    return c.json(view.explain({ sourceIdentity, sourceAddress: q.sourceIp ?? "0.0.0.0", destinationAddress: q.destination, destinationPort: port }));
  });
  app.get("/logging", (c) => c.json({ level: view.log.level }));
  app.post("/logging", (c) => {
    const level = c.req.query("level");
    if (!level || !(LOG_LEVELS as readonly string[]).includes(level)) {
      return c.json({ error: `level must be one of ${LOG_LEVELS.join(", ")}` }, 400);
    }
    view.log.level = level as LogLevel;
    return c.json({ level });
  });
  app.post("/quitquitquit", (c) => {
    setTimeout(view.quit, 10);
    return c.text("OK\n");
  });
  return app;
}

/** Prometheus metrics at /metrics and /stats/prometheus. */
export function metricsApp(registry: MetricsRegistry): Hono {
  const app = new Hono();
  const render = () =>
    new Response(registry.render(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
  app.get("/metrics", render);
  app.get("/stats/prometheus", render);
  return app;
}

/**
 * /healthz/ready: 200 once ready, else 503 with the reason. A ready node that
 * lost its controlplane stays ready (it serves its last good state) and says
 * it is not synced.
 */
export function readinessApp(notReadyReason: () => string | undefined, outOfSync: () => string | undefined = () => undefined): Hono {
  const app = new Hono();
  app.get("/healthz/ready", (c) => {
    const reason = notReadyReason();
    if (reason) return c.text(`not ready: ${reason}\n`, 503);
    const drift = outOfSync();
    return c.text(drift ? `ready; ${drift}\n` : "ready\n");
  });
  return app;
}
