import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { onPath, PROMETHEUS_MISSING, startDevPrometheus } from "./dev_prometheus.ts";
import { loopbackAddress } from "../../testing/loopback.ts";
import { devPlan } from "./plan.ts";
import type { Supervisor } from "./supervisor.ts";

test("without the binary: the config is written (http_sd from the controlplane, and the controlplane itself), nothing is started", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-devprom-"));
  try {
    const plan = devPlan({ nodes: 2, samples: true, stateDir: dir });
    const supervisor = { start: () => { throw new Error("started something"); } } as unknown as Supervisor;
    expect(await startDevPrometheus(plan, supervisor, 1000, { PATH: dir })).toEqual({ skipped: PROMETHEUS_MISSING });
    const config = parse(fs.readFileSync(plan.prometheusConfig, "utf8"));
    expect(config.scrape_configs.map((c: { job_name: string }) => c.job_name)).toEqual(["ambit", "istiod"]);
    expect(config.scrape_configs[0].http_sd_configs[0].url).toBe("http://127.0.0.1:15014/sd/prometheus");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("onPath finds executables only", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-path-"));
  try {
    fs.writeFileSync(path.join(dir, "prometheus"), "", { mode: 0o644 });
    expect(onPath("prometheus", { PATH: dir })).toBeUndefined();
    fs.chmodSync(path.join(dir, "prometheus"), 0o755);
    expect(onPath("prometheus", { PATH: `/nonexistent:${dir}` })).toBe(path.join(dir, "prometheus"));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a port already in use (the user's own Prometheus) is left alone: nothing started, the summary says how to point it at the mesh", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-devprom-"));
  const address = loopbackAddress();
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(9090, address, () => r()));
  try {
    fs.writeFileSync(path.join(dir, "prometheus"), "#!/bin/sh\n", { mode: 0o755 });
    const plan = devPlan({ nodes: 1, samples: false, stateDir: dir });
    const supervisor = { start: () => { throw new Error("started something"); } } as unknown as Supervisor;
    const result = await startDevPrometheus(plan, supervisor, 1000, { PATH: dir }, `${address}:9090`);
    expect(result).toEqual({ skipped: `${address}:9090 is in use, so no Prometheus was started: prometheus --config.file ${plan.prometheusConfig} scrapes this mesh` });
  } finally {
    taken.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
