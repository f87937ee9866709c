import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CertificateAuthority } from "./certificate_authority.ts";
import { backoffDelayMs, CertificateRenewer, MAX_TIMER_MS, renewalDelayMs } from "./renewal.ts";
import { spiffeId } from "./spiffe.ts";
import type { WorkloadCertificate } from "./workload_certificate.ts";

test("renewal is due at half life", () => {
  const nb = new Date(0);
  const na = new Date(24 * 3600_000);
  const cases: [number, number][] = [[0, 12 * 3600_000], [6 * 3600_000, 6 * 3600_000], [12 * 3600_000, 0], [20 * 3600_000, 0]];
  for (const [now, want] of cases) expect(renewalDelayMs(nb, na, now, 0)).toBe(want);
});

test("a backdated certificate is renewed half way through the life it has left when it arrives", () => {
  // Issued at t=60s, valid 20 s, notBefore backdated to t=0.
  expect(renewalDelayMs(new Date(0), new Date(80_000), 60_000, 60_000)).toBe(10_000);
});

test("backoff doubles up to its cap, jittered over the upper half", () => {
  const opts = { baseMs: 100, maxMs: 1000, random: () => 0 };
  expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelayMs(a, opts))).toEqual([50, 100, 200, 400, 500, 500]);
  expect(backoffDelayMs(3, { ...opts, random: () => 1 })).toBe(400);
});

test("a renewer renews before expiry and keeps the old certificate while the CA fails", async () => {
  const ca = await CertificateAuthority.loadOrCreate({ dir: fs.mkdtempSync(path.join(os.tmpdir(), "ambit-renew-")), trustDomain: "cluster.local" });
  const id = spiffeId("cluster.local", "default", "sleep");
  let failNext = 0;
  let calls = 0;
  const seen: WorkloadCertificate[] = [];
  const renewer = new CertificateRenewer({
    // 1 s + 60 s clock skew backdating = half life ~30 s; shorten via a fake notBefore.
    issue: async () => {
      calls++;
      if (failNext > 0) {
        failNext--;
        throw new Error("CA unavailable");
      }
      const c = await ca.issue(id, 3600);
      return { ...c, notBefore: new Date(Date.now()), notAfter: new Date(Date.now() + 400) };
    },
    onCertificate: (c) => seen.push(c),
    backoff: { baseMs: 20, maxMs: 40, random: () => 0.5 },
  });
  const first = await renewer.start();
  failNext = 2;
  await new Promise((r) => setTimeout(r, 400));
  renewer.stop();
  expect(renewer.current).toBeDefined();
  expect(seen[0]).toBe(first);
  expect(seen.length).toBeGreaterThanOrEqual(2);
  expect(calls).toBeGreaterThanOrEqual(4); // first + two failures + a successful retry
});

test("a half life beyond a timer's 2^31 ms is waited out in steps, not renewed at once", async () => {
  const ca = await CertificateAuthority.loadOrCreate({ dir: fs.mkdtempSync(path.join(os.tmpdir(), "ambit-renew-")), trustDomain: "cluster.local" });
  const cert = await ca.issue(spiffeId("cluster.local", "default", "sleep"), 3600);
  const day = 86_400_000;
  let now = 1_000_000;
  const armed: { fn: () => void; ms: number }[] = [];
  let issued = 0;
  const renewer = new CertificateRenewer({
    // A 90-day certificate: renewal is due in 45 days, about 1.8 timer lifetimes.
    issue: async () => (issued++, { ...cert, notBefore: new Date(now), notAfter: new Date(now + 90 * day) }),
    onCertificate: () => {},
    timers: {
      now: () => now,
      setTimeout: (fn, ms) => (armed.push({ fn, ms }), 0 as unknown as ReturnType<typeof setTimeout>),
      clearTimeout: () => {},
    },
  });
  await renewer.start();
  expect(issued).toBe(1);
  expect(armed.map((a) => a.ms)).toEqual([MAX_TIMER_MS]);
  now += MAX_TIMER_MS;
  armed[0]!.fn();
  expect(issued).toBe(1);
  expect(armed[1]!.ms).toBe(45 * day - MAX_TIMER_MS);
  now += armed[1]!.ms;
  armed[1]!.fn();
  await Promise.resolve();
  expect(issued).toBe(2);
  renewer.stop();
});
