// The config API: apply, delete, get, audit. app.ts lets only the admin (or the
// dev listener) reach /api/v1: a node's certificate can never change config.
import { Hono } from "hono";
import { ConfigError } from "../../config/errors.ts";
import { parseConfig } from "../../config/intake.ts";
import { describeObject, type KubeObject, objectKey } from "../../config/objects.ts";
import { type Caller, describeCaller } from "../caller.ts";
import type { DataPlane } from "../dataplane.ts";
import { type ConfigStore, StoreConflictError } from "../store/config_store.ts";

export type Env = { Variables: { caller: Caller } };

/** Config routes under /api/v1. */
export function configRoutes(store: ConfigStore, dataplane: DataPlane): Hono<Env> {
  const app = new Hono<Env>();
  const intake = async (c: { req: { text(): Promise<string>; header(n: string): string | undefined; query(n: string): string | undefined } }) => {
    const file = c.req.header("x-ambit-filename") || "<api>";
    const validate = c.req.query("validate") === "warn" ? "warn" as const : "strict" as const;
    return parseConfig(await c.req.text(), file, { validate });
  };

  app.post("/api/v1/apply", async (c) => {
    try {
      const { objects, warnings } = await intake(c);
      const dryRun = c.req.query("dryRun") === "true";
      const changes = await store.apply(objects, describeCaller(c.get("caller")), { dryRun });
      // What translation says of the applied objects (a policy ztunnel cannot enforce as written…) goes back
      // with the answer, so the user sees it at apply time, not only in status conditions. A dry run is
      // answered from a translation of what the store would hold.
      const applied = new Set(objects.map(describeObject));
      const file = c.req.header("x-ambit-filename") || "<api>";
      const warned = dryRun ? dataplane.warningsFor(wouldHold(store.list(), objects)) : dataplane.warnings;
      const translated = warned.filter((w) => applied.has(w.object)).map((w) => ({ file, object: w.object, field: "", message: w.message }));
      return c.json({ changes, warnings: [...warnings, ...translated] });
    } catch (e) {
      if (e instanceof ConfigError) return c.json({ error: e.message, problems: e.problems }, 400);
      if (e instanceof StoreConflictError) return c.json({ error: e.message, code: e.code }, 409);
      throw e;
    }
  });

  app.post("/api/v1/delete", async (c) => {
    try {
      const { objects } = await intake(c);
      return c.json({ changes: await store.delete(objects, describeCaller(c.get("caller")), { dryRun: c.req.query("dryRun") === "true" }) });
    } catch (e) {
      if (e instanceof ConfigError) return c.json({ error: e.message, problems: e.problems }, 400);
      throw e;
    }
  });

  app.delete("/api/v1/objects/:kind/:namespace/:name", async (c) => {
    const { kind, namespace, name } = c.req.param();
    const [change] = await store.delete([{ kind, metadata: { name, namespace: namespace === "_" ? undefined : namespace } }], describeCaller(c.get("caller")));
    return c.json({ changes: [change] }, change!.verb === "not found" ? 404 : 200);
  });

  const withStatus = (o: ReturnType<ConfigStore["list"]>[number]) => {
    const conditions = dataplane.statusOf(objectKey(o));
    const parents = dataplane.routeStatusOf(objectKey(o));
    if (!conditions && !parents) return o;
    return { ...o, status: { ...(o.status as object | undefined), ...(conditions ? { conditions } : {}), ...(parents ? { parents } : {}) } };
  };
  app.get("/api/v1/objects", (c) => {
    const items = store.list({ kind: c.req.query("kind"), namespace: c.req.query("namespace") }).map(withStatus);
    return c.json({ apiVersion: "v1", kind: "List", items });
  });
  app.get("/api/v1/objects/:kind/:namespace/:name", (c) => {
    const { kind, namespace, name } = c.req.param();
    const o = store.get(kind, namespace === "_" ? undefined : namespace, name);
    return o ? c.json(withStatus(o)) : c.json({ error: `${kind} ${namespace}/${name} not found` }, 404);
  });
  app.get("/api/v1/audit", async (c) => c.json({ entries: await store.audit(Number(c.req.query("limit") ?? 100)) }));
  app.get("/api/v1/dataplane", (c) => c.json({ generation: dataplane.generation, ...dataplane.snapshot, warnings: dataplane.warnings }));
  return app;
}

/** The stored objects with `incoming` applied over them (by object key), as an apply would leave the store. */
function wouldHold(stored: readonly KubeObject[], incoming: readonly KubeObject[]): KubeObject[] {
  const next = new Map(stored.map((o) => [objectKey(o), o]));
  for (const o of incoming) next.set(objectKey(o), o);
  return [...next.values()];
}
