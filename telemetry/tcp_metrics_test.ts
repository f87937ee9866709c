// TcpMetrics: Istio's direction convention for both reporters, and byte
// counters that follow a connection's live counts at every scrape.
import { expect, test } from "bun:test";
import { TcpMetrics } from "./tcp_metrics.ts";

const labels = { reporter: "destination", destination_workload: "web" };
const sample = (text: string, name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);

test("request bytes count as received, response bytes as sent, while the connection is open", () => {
  const m = new TcpMetrics("ztunnel", "test");
  const live = { request: 0, response: 0 };
  m.connectionOpened(labels, () => live);
  live.request = 1000;
  live.response = 10;
  let text = m.registry.render();
  expect(sample(text, "istio_tcp_received_bytes_total")).toBe(1000);
  expect(sample(text, "istio_tcp_sent_bytes_total")).toBe(10);
  expect(text).not.toContain("istio_tcp_connections_closed_total{");
  live.request = 5000;
  text = m.registry.render();
  expect(sample(text, "istio_tcp_received_bytes_total")).toBe(5000);
  expect(m.openConnections).toBe(1);
});

test("close adds what moved since the last scrape, once; the connection stops being read", () => {
  const m = new TcpMetrics("ztunnel", "test");
  const live = { request: 100, response: 1 };
  const meter = m.connectionOpened(labels, () => live);
  m.registry.render();
  meter.close({ request: 300, response: 3 });
  meter.close({ request: 999, response: 999 });
  live.request = 10_000;
  const text = m.registry.render();
  expect(sample(text, "istio_tcp_received_bytes_total")).toBe(300);
  expect(sample(text, "istio_tcp_sent_bytes_total")).toBe(3);
  expect(sample(text, "istio_tcp_connections_closed_total")).toBe(1);
  expect(m.openConnections).toBe(0);
});

test("connections with the same labels add up, and a counter never goes back", () => {
  const m = new TcpMetrics("ztunnel", "test");
  const a = { request: 10, response: 0 };
  const b = { request: 20, response: 0 };
  m.connectionOpened(labels, () => a);
  m.connectionOpened(labels, () => b);
  expect(sample(m.registry.render(), "istio_tcp_received_bytes_total")).toBe(30);
  a.request = 5; // never happens with a real copy; the counter holds
  expect(sample(m.registry.render(), "istio_tcp_received_bytes_total")).toBe(30);
});

test("HELP texts say which direction each counter is", () => {
  const text = new TcpMetrics("ztunnel", "test").registry.render();
  expect(text).toMatch(/# HELP istio_tcp_received_bytes_total .*request.*client to server/);
  expect(text).toMatch(/# HELP istio_tcp_sent_bytes_total .*response.*server to client/);
});
