// Endurance as a correctness test: the soak of scripts/soak.ts cut to 60 s, with a
// policy and a config change every 15 s and one kill -9 and restart of the
// controlplane at 30 s, all under mixed load through two ztunnels. It asserts
// what must hold however slow the machine: no errors and no bytes lost. RSS
// growth and p99 per window are printed, not asserted.
import * as assert from "node:assert/strict";
import { afterAll, test } from "../testing/harness.ts";
import { formatSoakReport, runSoak } from "../testing/soak.ts";

const stop = new AbortController();
let running: Promise<unknown> | undefined;
afterAll(async () => {
  stop.abort();
  await running?.catch(() => {});
});

test("60 s of long transfers, short requests and churn across policy and config changes and a controlplane kill -9: no errors, no bytes lost", async () => {
  const soak = runSoak({ seconds: 60, changeEverySeconds: 15, restartAtSeconds: 30, warmUpSeconds: 10, signal: stop.signal, log: (l) => console.error(l) });
  running = soak;
  const report = await soak;
  console.log(formatSoakReport(report));
  assert.deepEqual(report.errors.first, []);
  assert.equal(report.errors.total, 0);
  assert.equal(report.bytesLost, 0);
  assert.ok(report.bytesChecked > 0);
  assert.ok(report.counts.longTransfers >= 3 && report.counts.shortRequests > 0 && report.counts.churned > 0, JSON.stringify(report.counts));
  assert.ok(report.counts.policyChanges >= 3 && report.counts.configChanges >= 3, JSON.stringify(report.counts));
  assert.equal(report.counts.restarts, 1);
}, { timeout: 120_000 });
