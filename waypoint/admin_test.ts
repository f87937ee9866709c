// The waypoint's admin API keeps browsers out as the ztunnel's does
// (telemetry/admin_guard.ts): a cross-site page cannot quit it or change its log
// level, a DNS-rebinding page cannot read its config or access log.
import { expect, test } from "bun:test";
import { ADMIN_REQUEST_HEADER } from "../telemetry/admin_guard.ts";
import { AccessLogRing, Logger } from "../telemetry/mod.ts";
import { waypointAdminApp, type WaypointAdminView } from "./admin.ts";

function admin() {
  let quits = 0;
  const log = new Logger({ level: "info", write: () => {} });
  const accessLog = AccessLogRing.tapping(log);
  log.info("access", "request", { src: "127.0.0.5:4000", upstream: "127.0.0.9:8080", path: "/a?token=secret" });
  const view = {
    gateway: "demo/wp", identity: () => "spiffe://cluster.local/ns/demo/sa/wp", log, accessLog, quit: () => void quits++,
    state: () => ({ snapshot: { services: [], workloads: [], routes: [] } }), certificate: () => undefined, configSource: () => ({ kind: "file" }), stats: () => ({}),
  } as unknown as WaypointAdminView;
  return { app: waypointAdminApp(view), quits: () => quits };
}
const url = (p: string) => `http://127.0.0.1:15000${p}`;

test("POST /quitquitquit: curl with the admin header quits; a cross-site form or fetch does not", async () => {
  const { app, quits } = admin();
  expect((await app.request(url("/quitquitquit"), { method: "POST" })).status).toBe(403);
  expect((await app.request(url("/quitquitquit"), { method: "POST", headers: { [ADMIN_REQUEST_HEADER]: "1", "sec-fetch-site": "cross-site" } })).status).toBe(403);
  expect((await app.request(url("/logging?level=debug"), { method: "POST", headers: { origin: "http://evil.example" } })).status).toBe(403);
  expect((await app.request(url("/quitquitquit"), { method: "POST", headers: { [ADMIN_REQUEST_HEADER]: "1" } })).status).toBe(200);
  await new Promise((r) => setTimeout(r, 20));
  expect(quits()).toBe(1);
});

test("reads: a DNS-rebinding Host is refused; the access log is served without query strings", async () => {
  const { app } = admin();
  expect((await app.request(url("/debug/access_log"), { headers: { host: "evil.example:15000" } })).status).toBe(403);
  const res = await app.request(url("/debug/access_log?address=127.0.0.9&workload=demo/hello"));
  const body = await res.json() as { records: { fields: Record<string, unknown> }[] };
  expect(body.records.map((r) => r.fields.path)).toEqual(["/a"]);
});
