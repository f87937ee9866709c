// The process metrics against this very process (Linux /proc).
import { expect, test } from "bun:test";
import * as net from "node:net";
import { MetricsRegistry } from "./metrics.ts";
import { countDescriptors, registerProcessMetrics } from "./process_metrics.ts";

test("countDescriptors sees a socket this process opens", async () => {
  const before = (await countDescriptors())!;
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const after = (await countDescriptors())!;
  server.close();
  expect(after.sockets).toBe(before.sockets + 1);
  expect(after.open).toBeGreaterThan(after.sockets);
});

test("the standard process metrics render with values, descriptors one scrape old", async () => {
  const r = new MetricsRegistry();
  const descriptors = registerProcessMetrics(r);
  for (let i = 0; i < 100 && !descriptors(); i++) await new Promise((res) => setTimeout(res, 10));
  const text = r.render();
  for (const name of ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_start_time_seconds", "process_open_fds", "process_max_fds"]) {
    expect(text).toMatch(new RegExp(`^${name} [0-9.e+]+$`, "m"));
  }
  expect(Number(/^process_resident_memory_bytes (\S+)$/m.exec(text)![1])).toBeGreaterThan(1e6);
  expect(descriptors()!.sockets).toBeGreaterThanOrEqual(0);
});
