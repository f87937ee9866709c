// Dev mode's Prometheus: started when Debian's `prometheus` binary is on PATH,
// configured only with the controlplane's http_sd target list (so it finds
// every ztunnel and waypoint by itself) and the controlplane's own metrics, its
// data in <state-dir>/prometheus; stopped with the rest on Ctrl-C.
import * as fs from "node:fs";
import * as path from "node:path";
import { prometheusScrapeConfig } from "../../telemetry/mod.ts";
import { DEV_ADDRESSES, type DevPlan } from "./plan.ts";
import { httpReady, waitUntil } from "./readiness.ts";
import type { Supervisor } from "./supervisor.ts";

/** How to get it, said once when it is missing. */
export const PROMETHEUS_MISSING = "prometheus not found on PATH: install it (Debian: apt-get install prometheus) and dev mode starts one scraping the mesh";

/** Finds an executable on PATH. */
export function onPath(name: string, env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Writes the config and, when the binary exists, starts Prometheus and waits for it; undefined when it is missing. */
export async function startDevPrometheus(plan: DevPlan, supervisor: Supervisor, timeoutMs: number, env: Readonly<Record<string, string | undefined>> = process.env): Promise<{ url: string } | undefined> {
  fs.writeFileSync(plan.prometheusConfig, prometheusScrapeConfig({
    discovery: `http://${plan.controlplane.metricsListen}/sd/prometheus`,
    controlplane: plan.controlplane.metricsListen,
    intervalSeconds: 5,
  }));
  const binary = onPath("prometheus", env);
  if (!binary) return undefined;
  const url = `http://${DEV_ADDRESSES.prometheus}`;
  const child = supervisor.start({
    name: "prometheus", role: "prometheus", logFile: path.join(plan.logDir, "prometheus.log"),
    cmd: binary,
    args: [`--config.file=${plan.prometheusConfig}`, `--web.listen-address=${DEV_ADDRESSES.prometheus}`, `--storage.tsdb.path=${path.join(plan.stateDir, "prometheus")}`],
  });
  await waitUntil("prometheus", () => httpReady(`${url}/-/ready`), { child, timeoutMs });
  return { url };
}
