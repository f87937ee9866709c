import { expect, test } from "bun:test";
import { DASHBOARD_CSP } from "./dashboard_guard.ts";
import { graphRoutes, type GraphView } from "./graph_routes.ts";

const view: GraphView = {
  graph: async () => ({ nodes: [], edges: [], source: "mesh", windowSeconds: 60, updatedAt: "2026-01-01T00:00:00.000Z" }),
  workload: async (ns, name) => (ns === "demo" && name === "sleep" ? { config: { workload: { name } } } : undefined),
  service: (host) => (host === "hello.demo.svc.cluster.local" ? { hostname: host } : undefined),
};
const app = graphRoutes(view);
const get = (path: string, headers: Record<string, string> = {}, method = "GET") =>
  app.request(`http://127.0.0.1:20001${path}`, { method, headers: { host: "127.0.0.1:20001", ...headers } });

test("the page, its script and the JSON are served with the CSP and the no-frame, no-sniff, no-store headers", async () => {
  for (const path of ["/", "/graph.js", "/graph.css", "/api/graph", "/api/workloads/demo/sleep", "/api/services/hello.demo.svc.cluster.local"]) {
    const res = await get(path);
    expect([path, res.status]).toEqual([path, 200]);
    expect(res.headers.get("content-security-policy")).toBe(DASHBOARD_CSP);
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  }
  expect(await (await get("/")).text()).not.toContain("<script>");
  expect((await get("/graph.js")).headers.get("content-type")).toStartWith("text/javascript");
});

// Each row: a request an attacker's page (or a rebinding DNS name) can make, and the refusal.
const refusals: [string, string, Record<string, string>, string, number][] = [
  ["a DNS-rebinding page (its own name in Host)", "/api/graph", { host: "evil.example:20001" }, "GET", 403],
  ["a cross-site fetch of the JSON", "/api/graph", { "sec-fetch-site": "cross-site", "sec-fetch-mode": "cors" }, "GET", 403],
  ["a same-site (other port) fetch of a workload's config", "/api/workloads/demo/sleep", { "sec-fetch-site": "same-site", "sec-fetch-mode": "cors" }, "GET", 403],
  ["a cross-site script include", "/graph.js", { "sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors" }, "GET", 403],
  ["a cross-site navigation to a JSON path", "/api/graph", { "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate" }, "GET", 403],
  ["a form POST", "/", { "content-type": "application/x-www-form-urlencoded" }, "POST", 405],
];
for (const [name, path, headers, method, status] of refusals) {
  test(`refused: ${name}`, async () => {
    expect((await get(path, headers, method)).status).toBe(status);
  });
}

test("a link from another site opens the page itself; unknown names are 404", async () => {
  expect((await get("/", { "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate" })).status).toBe(200);
  expect((await get("/api/workloads/demo/nobody")).status).toBe(404);
  expect((await get("/api/services/nope")).status).toBe(404);
  expect((await get("/etc/passwd")).status).toBe(404);
});

test("the script sets mesh names only as text", async () => {
  const js = await (await get("/graph.js")).text();
  expect(js).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
});
