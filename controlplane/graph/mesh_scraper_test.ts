// The scraper against real HTTP targets on loopback (servers in this process
// whose counters the test sets), so rates, resets and target labels are checked
// without a mesh.
import { afterAll, expect, test } from "bun:test";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { MeshScraper } from "./mesh_scraper.ts";

let body = "";
const server = http.createServer((req, res) => {
  if (req.url !== "/metrics") return void res.writeHead(404).end();
  res.end(body);
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
const target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
afterAll(() => void server.close());

const counter = (n: number, extra = "") => `# TYPE istio_tcp_sent_bytes_total counter\nistio_tcp_sent_bytes_total{reporter="destination"${extra}} ${n}\nprocess_open_fds 9\n`;

test("rates come from the oldest and newest scrape in the window, carry the target's labels, and keep only the graph's metrics", async () => {
  const scraper = new MeshScraper({ targets: () => [{ targets: [target], labels: { role: "ztunnel", node: "node-a" } }], intervalMs: 1000, windowMs: 60_000 });
  body = counter(100);
  await scraper.scrapeOnce();
  expect(scraper.rates()).toEqual([]);
  body = counter(400) + `istio_tcp_sent_bytes_total{reporter="source"} 50\n`;
  await scraper.scrapeOnce();
  const rates = scraper.rates();
  expect(rates.map((r) => [r.name, r.labels.reporter, r.labels.node, r.labels.role])).toEqual([
    ["istio_tcp_sent_bytes_total", "destination", "node-a", "ztunnel"],
    ["istio_tcp_sent_bytes_total", "source", "node-a", "ztunnel"],
  ]);
  // 300 bytes, and a series born between the scrapes counted from 0, over the time between them.
  expect(rates[0]!.value / rates[1]!.value).toBeCloseTo(6);
  expect(rates[0]!.value).toBeGreaterThan(0);
});

test("a counter that went down was reset: what it shows now is what moved", async () => {
  const scraper = new MeshScraper({ targets: () => [{ targets: [target], labels: {} }], intervalMs: 1000, windowMs: 60_000 });
  body = counter(1000);
  await scraper.scrapeOnce();
  body = counter(10);
  await scraper.scrapeOnce();
  const [r] = scraper.rates();
  const [again] = scraper.rates();
  expect(r!.value).toBeGreaterThan(0);
  expect(again!.value).toBe(r!.value);
});

test("a target that does not answer, answers garbage or leaves the list costs nothing", async () => {
  let targets = [{ targets: ["127.0.0.1:1"], labels: {} }, { targets: [target], labels: {} }];
  const scraper = new MeshScraper({ targets: () => targets, intervalMs: 1000, windowMs: 60_000, timeoutMs: 500 });
  body = "garbage {{{\n\u0000\n";
  await scraper.scrapeOnce();
  await scraper.scrapeOnce();
  expect(scraper.rates()).toEqual([]);
  body = counter(1);
  await scraper.scrapeOnce();
  targets = [];
  await scraper.scrapeOnce();
  expect(scraper.rates()).toEqual([]);
});
