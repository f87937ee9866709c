import { expect, test } from "bun:test";
import { AccessLogRing } from "./access_log_ring.ts";
import { Logger } from "./logger.ts";

test("the ring keeps the newest records of the access scope, even below the log level, without query strings", () => {
  const log = new Logger({ level: "error", write: () => {} });
  const ring = AccessLogRing.tapping(log, 3);
  log.info("access", "request", { src: "127.0.0.5:4000", path: "/x?token=secret#frag", upstream: "127.0.0.9:8080" });
  log.info("other", "ignored", {});
  for (let i = 0; i < 3; i++) log.info("access", "connection complete", { "src.workload": "sleep", "src.namespace": "demo", n: i, error: undefined });
  const all = ring.recent();
  expect(all.map((r) => r.fields.n)).toEqual([2, 1, 0]);
  expect(Object.keys(all[0]!.fields)).not.toContain("error");
  expect(ring.recent({ workload: "demo/sleep", limit: 2 }).map((r) => r.fields.n)).toEqual([2, 1]);
  expect(ring.recent({ workload: "demo/hello" })).toEqual([]);
});

test("waypoint records match by address; the path's query is cut", () => {
  const ring = new AccessLogRing();
  ring.push("request", { src: "127.0.0.5:4000", path: "/x?token=secret", upstream: "127.0.0.9:8080" });
  const [r] = ring.recent({ workload: "demo/hello-v1", addresses: ["127.0.0.9"] });
  expect(r!.fields.path).toBe("/x");
});
