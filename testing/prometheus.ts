// A real Prometheus (Debian's `prometheus`) for the tests that check Ambit's
// metrics as Istio's dashboards read them: started on a loopback address with a
// given configuration, queried over its HTTP API, removed with its data.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startProcess } from "./processes.ts";

/** One row of an instant query's answer. */
export interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

/** One of Prometheus's active targets. */
export interface PromTarget {
  readonly health: string;
  readonly lastError: string;
  readonly labels: Record<string, string>;
  readonly scrapeUrl: string;
}

/** Starts Prometheus with `config` (YAML) listening on `address:9090`. */
export function startPrometheus(address: string, config: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-prom-"));
  const configFile = path.join(dir, "prometheus.yml");
  fs.writeFileSync(configFile, config);
  const url = `http://${address}:9090`;
  const proc = startProcess("prometheus", [`--config.file=${configFile}`, `--web.listen-address=${address}:9090`, `--storage.tsdb.path=${path.join(dir, "data")}`]);
  return {
    url,
    /** An instant query; fails the test on a PromQL error. */
    async query(expr: string): Promise<PromSample[]> {
      const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = await r.json() as { status: string; error?: string; data?: { result: PromSample[] } };
      assert.equal(body.status, "success", `${expr}: ${body.error}`);
      return body.data!.result;
    },
    async targets(): Promise<PromTarget[]> {
      const r = await fetch(`${url}/api/v1/targets`).then((x) => x.json()) as { data: { activeTargets: PromTarget[] } };
      return r.data.activeTargets;
    },
    async stop(): Promise<void> {
      proc.kill("SIGKILL");
      await proc.exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` returns a value other than a string (the reason it is not there yet), or fails with the last reason at the deadline. */
export async function until<T>(what: string, check: () => Promise<T | string>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let last = "";
  for (;;) {
    const r = await check().catch((e: Error) => e.message);
    if (typeof r !== "string") return r;
    last = r;
    if (Date.now() > deadline) throw new Error(`${what}: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
