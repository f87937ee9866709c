// The two HTTP surfaces every data-plane service has, as small Hono apps:
// Prometheus metrics (15020-style) and readiness (15021-style).
import { Hono } from "hono";

/** Prometheus metrics at /metrics and /stats/prometheus, rendered per scrape. */
export function prometheusApp(render: () => string): Hono {
  const app = new Hono();
  const serve = () => new Response(render(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
  app.get("/metrics", serve);
  app.get("/stats/prometheus", serve);
  return app;
}

/** /healthz/ready: 200 once ready, else 503 with the reason. */
export function readinessProbeApp(notReadyReason: () => string | undefined): Hono {
  const app = new Hono();
  app.get("/healthz/ready", (c) => {
    const reason = notReadyReason();
    return reason ? c.text(`not ready: ${reason}\n`, 503) : c.text("ready\n");
  });
  return app;
}
