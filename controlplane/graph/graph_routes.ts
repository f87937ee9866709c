// The service-graph listener's routes: the page, its script and style, and the
// JSON it polls. Every answer passes the dashboard guard.
import { Hono } from "hono";
import { dashboardGuard } from "./dashboard_guard.ts";
import { GRAPH_CSS, GRAPH_HTML, GRAPH_JS } from "./graph_page.ts";
import type { ServiceGraph } from "./service_graph.ts";

/** The graph as served: the nodes and edges, where the rates came from and when. */
export interface GraphAnswer extends ServiceGraph {
  readonly source: "mesh" | "prometheus";
  readonly windowSeconds: number;
  readonly updatedAt: string;
  /** Why the rates are missing or stale (a Prometheus that did not answer). */
  readonly error?: string;
}

/** What the routes read. */
export interface GraphView {
  graph(): Promise<GraphAnswer>;
  /** A workload's config and recent access log; undefined when the controlplane knows no such workload. */
  workload(namespace: string, name: string): Promise<unknown | undefined>;
  service(hostname: string): unknown | undefined;
}

/** The routes. */
export function graphRoutes(view: GraphView): Hono {
  const app = new Hono();
  app.use(dashboardGuard());
  app.get("/", (c) => c.html(GRAPH_HTML));
  app.get("/graph.js", (c) => c.body(GRAPH_JS, 200, { "content-type": "text/javascript; charset=utf-8" }));
  app.get("/graph.css", (c) => c.body(GRAPH_CSS, 200, { "content-type": "text/css; charset=utf-8" }));
  // Browsers ask for it unprompted; an empty answer keeps their console clean.
  app.get("/favicon.ico", (c) => c.body(null, 204));
  app.get("/api/graph", async (c) => c.json(await view.graph()));
  app.get("/api/workloads/:namespace/:name", async (c) => {
    const found = await view.workload(c.req.param("namespace"), c.req.param("name"));
    return found === undefined ? c.json({ error: "no such workload" }, 404) : c.json(found);
  });
  app.get("/api/services/:hostname", (c) => {
    const found = view.service(c.req.param("hostname"));
    return found === undefined ? c.json({ error: "no such service" }, 404) : c.json({ config: found });
  });
  app.notFound((c) => c.json({ error: "not found" }, 404));
  return app;
}
