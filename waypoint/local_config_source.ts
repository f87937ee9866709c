// Config source (a): a local file holding a WaypointSnapshot — YAML or JSON
// with `services`, `workloads` and `routes` (xDS shapes) and optionally the
// waypoint's `gateway` — checked whole (a bad file changes nothing), reloaded
// when it changes and on SIGHUP.
import * as fs from "node:fs";
import { parse } from "yaml";
import { z } from "zod";
import { ConfigError, type ConfigProblem, formatFieldPath } from "../config/errors.ts";
import { serviceSchema, workloadSchema } from "../xds/resource_schemas.ts";
import { extAuthzHttpProviderSchema, serviceL7PolicySchema } from "../xds/l7_policy_resource_schemas.ts";
import { serviceRoutesSchema } from "../xds/waypoint_resource_schemas.ts";
import { serviceTelemetrySchema } from "../xds/telemetry_resources.ts";
import type { WaypointSnapshot } from "../xds/waypoint_resources.ts";

const fileSchema = z.object({
  gateway: z.string().regex(/^[^/]+\/[^/]+$/, "must be namespace/name").optional(),
  services: z.array(serviceSchema).default([]),
  workloads: z.array(workloadSchema).default([]),
  routes: z.array(serviceRoutesSchema).default([]),
  l7Policies: z.array(serviceL7PolicySchema).default([]),
  extAuthzProviders: z.array(extAuthzHttpProviderSchema).default([]),
  telemetry: z.array(serviceTelemetrySchema).default([]),
});

/** What a local file holds. */
export interface LocalWaypointConfig {
  readonly gateway?: string;
  readonly snapshot: WaypointSnapshot;
}

/** Parses and checks a local config file's text; throws ConfigError naming file and field. */
export function parseLocalWaypointConfig(file: string, text: string): LocalWaypointConfig {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new ConfigError([{ file, field: "", message: `not YAML or JSON: ${(e as Error).message.split("\n")[0]}` }]);
  }
  const parsed = fileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const problems: ConfigProblem[] = parsed.error.issues.map((i) => ({ file, object: objectOf(raw, i.path), field: formatFieldPath(i.path), message: i.message }));
    throw new ConfigError(problems);
  }
  const { gateway, services, workloads, routes, l7Policies, extAuthzProviders, telemetry } = parsed.data;
  return { gateway, snapshot: { services, workloads, routes, l7Policies, extAuthzProviders, telemetry } as WaypointSnapshot };
}

function objectOf(raw: unknown, path: readonly PropertyKey[]): string | undefined {
  const [list, index] = path;
  const item = (raw as Record<string, unknown[]> | undefined)?.[String(list)]?.[index as number] as Record<string, string> | undefined;
  if (!item) return undefined;
  if (list === "routes") return `ServiceRoutes ${item.service}`;
  if (list === "services") return `Service ${item.namespace}/${item.name}`;
  if (list === "workloads") return `Workload ${item.namespace}/${item.name}`;
  if (list === "l7Policies") return `ServiceL7Policy ${item.service}`;
  return undefined;
}

/** Watches a local file and hands each good snapshot on. */
export class LocalConfigSource {
  #watcher: fs.FSWatcher | undefined;
  #debounce: ReturnType<typeof setTimeout> | undefined;
  lastError: string | undefined;
  loadedAt: Date | undefined;

  constructor(private readonly options: { file: string; onConfig: (c: LocalWaypointConfig) => void; onError: (e: Error) => void }) {}

  /** Loads the file once; throws on a bad file (the waypoint does not start on one). */
  loadInitial(): LocalWaypointConfig {
    const c = parseLocalWaypointConfig(this.options.file, fs.readFileSync(this.options.file, "utf8"));
    this.loadedAt = new Date();
    this.options.onConfig(c);
    return c;
  }

  /** Reloads; a bad file is reported and the last good config stays. */
  reload(): void {
    try {
      const c = parseLocalWaypointConfig(this.options.file, fs.readFileSync(this.options.file, "utf8"));
      this.lastError = undefined;
      this.loadedAt = new Date();
      this.options.onConfig(c);
    } catch (e) {
      this.lastError = (e as Error).message;
      this.options.onError(e as Error);
    }
  }

  /** Reloads on change (the directory is watched, so an atomic rename is seen). */
  watch(): void {
    const dir = this.options.file.replace(/\/[^/]*$/, "") || ".";
    const base = this.options.file.slice(dir.length + 1);
    this.#watcher = fs.watch(dir, (_event, name) => {
      if (name && name !== base) return;
      clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => this.reload(), 20);
    });
  }

  stop(): void {
    clearTimeout(this.#debounce);
    this.#watcher?.close();
  }
}
