// The service-graph page in a real browser (Debian's chromium driven by
// playwright-core), against a real two-node mesh with a waypoint: controlplane,
// two ztunnels and the waypoint are real processes; the demo's apps are small HTTP
// servers in this process. The controlplane scrapes the data plane itself (no
// Prometheus). Checks: after traffic sleep → hello (through the waypoint) the
// page draws the edges with non-zero rates, a click on a workload shows its config
// and access log, and the console stays clean. A second case serves the page
// with a graph whose names are markup, as a hostile peer's HBONE baggage could
// make them, and checks they stay text. The screenshot in docs/ comes from here (AMBIT_UPDATE_SCREENSHOT=1).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { chromium } from "playwright-core";
import { graphRoutes } from "../controlplane/graph/graph_routes.ts";
import { serveHttp } from "../runtime/mod.ts";
import {
  afterAll, DEMO_HOST, loopbackAddress, repoRoot, runCommand, runtimeCommand, socksUrl, startWaypointDemoMesh, test,
} from "../testing/mod.ts";

const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

const demo = await startWaypointDemoMesh((cp) => ["--metrics-listen", `${cp}:15014`, "--dashboard-listen", `${cp}:20001`, "--dashboard-scrape-interval", "0.5", "--dashboard-window", "10"]);
const ip = { ...demo.ip, hostile: loopbackAddress() };
const HOST = DEMO_HOST;
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-chromium-"));
const browser = await chromium.launchPersistentContext(userDataDir, { executablePath: "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 800 } });

let stopTraffic = false;
afterAll(async () => {
  stopTraffic = true;
  await browser.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
  await demo.stop();
});

/** A page that records every console error and uncaught exception. */
async function openPage(url: string) {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  return { page, errors };
}

test("after traffic through the waypoint the page draws the demo's edges with non-zero rates; a click shows the workload's config and access log; no console errors", async () => {
  const traffic = (async () => {
    while (!stopTraffic) {
      const r = await runCommand("curl", ["-sS", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_code}\\n", "-x", socksUrl(ip.sleep), `http://${HOST}/?n=[1-20]`], { timeoutMs: 30_000 });
      assert.deepEqual([...new Set(r.stdout.trim().split("\n"))], ["200"], r.stderr);
    }
  })();
  try {
    const { page, errors } = await openPage(`http://${ip.cp}:20001/`);
    // It updates live: the status line's time moves on without a reload.
    await page.waitForFunction(() => /nodes/.test(document.getElementById("status")!.textContent ?? ""), undefined, { timeout: 10_000 });
    const firstStatus = await page.locator("#status").textContent();
    await page.waitForFunction((first) => document.getElementById("status")!.textContent !== first, firstStatus, { timeout: 10_000 });
    const edge = (source: string, target: string) => `g.edge[data-source="${source}"][data-target="${target}"]`;
    const toService = edge("workload:demo/sleep", `service:${HOST}`);
    const toV1 = edge(`service:${HOST}`, "workload:demo/hello-v1");
    const toV2 = edge(`service:${HOST}`, "workload:demo/hello-v2");
    for (const selector of [toService, toV1, toV2]) {
      await page.waitForFunction((s) => Number(document.querySelector(s)?.getAttribute("data-rps")) > 0, selector, { timeout: 20_000 });
    }
    const label = await page.locator(`${toService} text`).first().textContent();
    assert.match(label ?? "", /^\d[\d.]* rps · 0\.0% err · p99 [\d.]+ ms$/);
    assert.match(await page.locator(`${toService} text.muted`).textContent() ?? "", /HTTP · mTLS · .* · via waypoint demo\/wp/);
    // The JSON endpoint serves the same graph.
    const json = await (await fetch(`http://${ip.cp}:20001/api/graph`)).json() as { edges: { source: string; target: string; requestsPerSecond: number }[] };
    assert.ok(json.edges.some((e) => e.source === "workload:demo/sleep" && e.target === `service:${HOST}` && e.requestsPerSecond > 0), JSON.stringify(json.edges));

    // `ambit dashboard` finds it and prints where it is (no display here, so nothing to open).
    const [cli, cliArgs] = runtimeCommand("cli/main.ts", ["dashboard", "--url", `http://${ip.cp}:20001/`]);
    const opened = await runCommand(cli, cliArgs, { cwd: repoRoot, env: { DISPLAY: "" } });
    assert.deepEqual([opened.code, opened.stdout], [0, `Service graph: http://${ip.cp}:20001/\n`], opened.stderr);
    const [cliDown, downArgs] = runtimeCommand("cli/main.ts", ["dashboard", "--url", `http://${ip.hostile}:20002/`]);
    const down = await runCommand(cliDown, downArgs, { cwd: repoRoot });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /does not answer .*--dashboard-listen/);

    await page.locator('g.node[data-node="workload:demo/hello-v1"]').click();
    await page.waitForSelector("#config");
    const config = JSON.parse(await page.locator("#config").textContent() ?? "{}");
    assert.equal(config.workload.name, "hello-v1");
    assert.equal(config.workload.node, "node-b");
    assert.deepEqual(config.services.map((s: { hostname: string }) => s.hostname), [HOST]);
    await page.waitForSelector("#access-log tr:nth-child(2)", { timeout: 10_000 });
    assert.match(await page.locator("#access-log").textContent() ?? "", /connection complete|request/);
    // The one in docs/ is made by this test: AMBIT_UPDATE_SCREENSHOT=1 writes it there; otherwise it goes to a
    // temporary file, so a test run leaves the tree as it found it.
    const shot = process.env.AMBIT_UPDATE_SCREENSHOT === "1" ? path.join(repoRoot, "docs", "service_graph.png") : path.join(userDataDir, "service_graph.png");
    await page.screenshot({ path: shot });
    assert.ok(fs.statSync(shot).size > 10_000, "the screenshot is empty");
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    stopTraffic = true;
    await traffic;
  }
}, { timeout: 90_000 });

test("names that are markup stay text: a workload named <img onerror> or <script> runs nothing", async () => {
  const evil = `<img src=x onerror="window.__pwned=1">`;
  const graph = {
    nodes: [
      { id: `workload:x/${evil}`, kind: "workload", namespace: "x", name: evil, deniedConnectionsPerSecond: 0 },
      { id: "service:<script>window.__pwned=2</script>", kind: "service", namespace: "</title>", name: "<script>window.__pwned=2</script>", deniedConnectionsPerSecond: 0 },
    ],
    edges: [{ id: "e", source: `workload:x/${evil}`, target: "service:<script>window.__pwned=2</script>", protocol: "http", requestsPerSecond: 1, errorRate: 0, deniedPerSecond: 0, bytesPerSecond: 1, connectionsPerSecond: 0, mtls: "mutual_tls", waypoint: `"><svg onload=window.__pwned=3>` }],
  };
  const server = serveHttp({
    hostname: ip.hostile,
    port: 20001,
    fetch: graphRoutes({
      graph: async () => ({ ...graph, source: "mesh", windowSeconds: 60, updatedAt: new Date().toISOString() }) as never,
      workload: async () => ({ config: { workload: { name: evil } }, accessLog: { records: [{ time: new Date().toISOString(), proxy: "<b>p</b>", message: "<script>window.__pwned=4</script>", fields: { path: "<img src=y onerror=window.__pwned=5>" } }], errors: [] } }),
      service: () => undefined,
    }).fetch,
  });
  try {
    const { page, errors } = await openPage(`http://${ip.hostile}:20001/`);
    await page.waitForSelector("g.node");
    await page.locator("g.node.workload").click();
    await page.waitForSelector("#access-log tr:nth-child(2)");
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.equal(await page.locator("img").count(), 0);
    assert.equal(await page.locator("svg svg").count(), 0);
    assert.ok((await page.locator("#graph").textContent() ?? "").includes("<img src=x"));
    assert.ok((await page.locator("#access-log").textContent() ?? "").includes("<script>window.__pwned=4</script>"));
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    await server.stop();
  }
}, { timeout: 30_000 });
