import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { onPath, startDevPrometheus } from "./dev_prometheus.ts";
import { devPlan } from "./plan.ts";
import type { Supervisor } from "./supervisor.ts";

test("without the binary: the config is written (http_sd from the controlplane, and the controlplane itself), nothing is started", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-devprom-"));
  try {
    const plan = devPlan({ nodes: 2, samples: true, stateDir: dir });
    const supervisor = { start: () => { throw new Error("started something"); } } as unknown as Supervisor;
    expect(await startDevPrometheus(plan, supervisor, 1000, { PATH: dir })).toBeUndefined();
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
