// What the access-log ring adds to each access record (bun bench/access_log_ring.ts): a Logger writing to
// nowhere, with and without the ring tapping it, alternating so load on the machine hits both alike.
import { AccessLogRing, Logger } from "../telemetry/mod.ts";
const fields = { src: "127.0.0.1:4000", principal: "spiffe://cluster.local/ns/demo/sa/sleep", method: "GET", authority: "hello", path: "/x?y=1", protocol: "HTTP/1.1", status: 200, flags: "-", upstream: "127.0.0.9:8080", bytes_in: 0, bytes_out: 5, duration_ms: 1.2, request_id: "abc" };
for (const tapped of [false, true, false, true, false, true, false, true]) {
  const log = new Logger({ write: () => {} });
  if (tapped) AccessLogRing.tapping(log);
  const n = 1_000_000;
  const t = performance.now();
  for (let i = 0; i < n; i++) log.info("access", "request", fields);
  console.log(tapped ? "with ring" : "no ring  ", ((performance.now() - t) * 1000 / n).toFixed(2), "µs per access record (logging included)");
}
