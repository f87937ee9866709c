// The admin API's guard against browsers (ztunnel/admin.ts browserGuard), over
// app.request() without sockets: what a cross-site page or a DNS-rebinding page
// can send is refused, what curl and the tests send is served.
import { describe, expect, test } from "bun:test";
import { ADMIN_REQUEST_HEADER, adminApp, type AdminView } from "./admin.ts";
import { Logger } from "../telemetry/mod.ts";

function admin() {
  let quits = 0;
  const log = new Logger({ level: "info", write: () => {} });
  const view = {
    node: "node-a", log, quit: () => void quits++,
    state: () => ({ snapshot: { workloads: [], services: [], policies: [] } }),
    certificates: () => [], connections: () => [], pool: () => ({ connectionsOpened: 0, openConnections: 0, activeStreams: 0 }),
    configSource: () => ({ kind: "file" }),
  } as unknown as AdminView;
  return { app: adminApp(view), log, quits: () => quits };
}

const url = (p: string) => `http://127.0.0.1:15000${p}`;
const ok = { [ADMIN_REQUEST_HEADER]: "1" };

describe("state-changing admin requests", () => {
  const cases: [string, Record<string, string>, number][] = [
    ["curl with the admin header", ok, 200],
    ["no admin header (a simple request: a cross-site form could send it)", {}, 403],
    ["a cross-site fetch (Sec-Fetch-Site: cross-site)", { ...ok, "sec-fetch-site": "cross-site" }, 403],
    ["a same-site but other-origin page", { ...ok, "sec-fetch-site": "same-site" }, 403],
    ["another Origin", { ...ok, origin: "http://evil.example" }, 403],
    ["a DNS-rebinding page (its own name as Host)", { ...ok, host: "evil.example:15000" }, 403],
    ["the admin's own origin", { ...ok, origin: "http://127.0.0.1:15000", "sec-fetch-site": "same-origin" }, 200],
    ["localhost", { ...ok, host: "localhost:15000" }, 200],
  ];
  for (const [name, headers, status] of cases) {
    test(`POST /logging from ${name}: ${status}`, async () => {
      const { app, log } = admin();
      const r = await app.request(url("/logging?level=debug"), { method: "POST", headers });
      expect(r.status).toBe(status);
      expect(log.level).toBe(status === 200 ? "debug" : "info");
    });
  }

  test("a cross-site POST /quitquitquit does not stop the ztunnel", async () => {
    const { app, quits } = admin();
    const r = await app.request(url("/quitquitquit"), { method: "POST", headers: { "content-type": "text/plain", origin: "http://evil.example", "sec-fetch-site": "cross-site" } });
    expect(r.status).toBe(403);
    await new Promise((r) => setTimeout(r, 30));
    expect(quits()).toBe(0);
  });

  test("POST /quitquitquit with the header stops it", async () => {
    const { app, quits } = admin();
    expect((await app.request(url("/quitquitquit"), { method: "POST", headers: ok })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 30));
    expect(quits()).toBe(1);
  });
});

test("reads work without the header, but not under a rebound Host name", async () => {
  const { app } = admin();
  expect((await app.request(url("/logging"))).status).toBe(200);
  expect((await app.request(url("/logging"), { headers: { host: "evil.example:15000" } })).status).toBe(403);
});
