// Dev mode's Prometheus: started when Debian's `prometheus` binary is on PATH,
// configured only with the controlplane's http_sd target list (so it finds
// every ztunnel and waypoint by itself) and the controlplane's own metrics, its
// data in <state-dir>/prometheus; stopped with the rest on Ctrl-C.
import * as fs from "node:fs";
import * as path from "node:path";
import { prometheusScrapeConfig } from "../../telemetry/mod.ts";
import { DEV_ADDRESSES, type DevPlan } from "./plan.ts";
import { httpReady, listening, waitUntil } from "./readiness.ts";
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

/** Writes the config and, when the binary exists and its port is free, starts Prometheus and waits for it. */
export async function startDevPrometheus(
  plan: DevPlan, supervisor: Supervisor, timeoutMs: number,
  env: Readonly<Record<string, string | undefined>> = process.env, listen: string = DEV_ADDRESSES.prometheus,
): Promise<{ url: string } | { skipped: string }> {
  fs.writeFileSync(plan.prometheusConfig, prometheusScrapeConfig({
    discovery: `http://${plan.controlplane.metricsListen}/sd/prometheus`,
    controlplane: plan.controlplane.metricsListen,
    intervalSeconds: 5,
  }));
  const binary = onPath("prometheus", env);
  if (!binary) return { skipped: PROMETHEUS_MISSING };
  const url = `http://${listen}`;
  // A Prometheus of the user's own on 9090 is theirs: point it at the config rather than fail the mesh.
  const [host, port] = listen.split(":");
  if (await listening(host!, Number(port))) return { skipped: `${listen} is in use, so no Prometheus was started: prometheus --config.file ${plan.prometheusConfig} scrapes this mesh` };
  const child = supervisor.start({
    name: "prometheus", role: "prometheus", logFile: path.join(plan.logDir, "prometheus.log"),
    cmd: binary,
    args: [`--config.file=${plan.prometheusConfig}`, `--web.listen-address=${listen}`, `--storage.tsdb.path=${path.join(plan.stateDir, "prometheus")}`],
    // An observer: if it dies, it is started again and the mesh goes on.
  }, { restartable: true });
  await waitUntil("prometheus", () => httpReady(`${url}/-/ready`), { child, timeoutMs });
  return { url };
}
