/**
 * Brings up the dev mesh of a {@link DevPlan}, in order: the controlplane, the
 * sample config, the ztunnels, the sample apps; then waits until each says it
 * is ready. Every process is a real child of the supervisor it is given, which
 * stops them all if anything fails.
 *
 * @example
 * ```ts
 * const { samples } = await startDevMesh(plan, supervisor, io, { samples: true, reset: false, timeoutMs: 60_000 });
 * ```
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ControlplaneClient } from "../controlplane_client.ts";
import { CommandError } from "../errors.ts";
import type { Io } from "../io.ts";
import { startDevPrometheus } from "./dev_prometheus.ts";
import { sampleAppCommand, serviceCommand } from "./launcher.ts";
import { DEV_ADDRESSES, type DevPlan } from "./plan.ts";
import { ownCommandLine, readLeftovers, stillRunning, writeProcessFile } from "./process_file.ts";
import { httpReady, listening, waitUntil } from "./readiness.ts";
import { applySamples, type SamplesResult } from "./samples.ts";
import type { Child, Supervisor } from "./supervisor.ts";
import { DevWaypoints } from "./waypoints.ts";

export interface DevMeshOptions {
  readonly samples: boolean;
  readonly reset: boolean;
  readonly timeoutMs: number;
}

/** Starts everything in the plan under `supervisor`; resolves once all of it is ready. */
export async function startDevMesh(plan: DevPlan, supervisor: Supervisor, io: Io, options: DevMeshOptions): Promise<{ samples?: SamplesResult; prometheus?: { url: string } | { skipped: string } }> {
  fs.mkdirSync(plan.logDir, { recursive: true });
  await endLeftovers(plan, io);
  const cp = new ControlplaneClient(plan.controlplane.devUrl);
  let watching = false;
  try {
    if (await cp.ready(1000)) {
      throw new CommandError(`something already answers on ${plan.controlplane.devUrl} (another ambit dev?); stop it first`);
    }
    const step = async <T>(label: string, work: () => Promise<T>, done: (t: T) => string = () => label): Promise<T> => {
      const started = Date.now();
      const result = await io.progress(`${label}`, work());
      io.out(`${io.color.green("✓")} ${done(result)} ${io.color.dim(`(${((Date.now() - started) / 1000).toFixed(1)}s)`)}\n`);
      return result;
    };
    const log = (name: string) => path.join(plan.logDir, `${name}.log`);

    const controlplane = supervisor.start({
      name: "controlplane", role: "controlplane", logFile: log("controlplane"),
      ...serviceCommand("controlplane", [
        "--state-dir", plan.controlplane.stateDir, "--listen", plan.controlplane.listen, "--dev-listen", plan.controlplane.devListen,
        "--metrics-listen", plan.controlplane.metricsListen, "--dashboard-listen", DEV_ADDRESSES.dashboard,
      ]),
    }, { restartable: true });
    await step("starting the controlplane", () => waitUntil("the controlplane", () => cp.ready(), { child: controlplane, timeoutMs: options.timeoutMs }),
      () => `controlplane ready on ${plan.controlplane.devUrl} (state in ${plan.controlplane.stateDir})`);

    let samples: SamplesResult | undefined;
    if (options.samples) {
      samples = await step("applying samples/demo.yaml", () => applySamples(cp, plan, { reset: options.reset }), describeSamples);
    }

    const ztunnels = plan.nodes.map((n) => supervisor.start({
      name: n.name, role: "ztunnel", logFile: log(n.name),
      ...serviceCommand("ztunnel", ["--node", n.name, "--address", n.address, "--controlplane", plan.controlplane.devUrl, "--drain-seconds", "1",
        "--socks-credentials-dir", plan.socksDir]),
      // Restarted like a DaemonSet's pod: a node proxy that dies (on Deno, denoland/deno#36788 can abort one when
      // a peer closes its HTTP/2 session) must not take the whole dev mesh down.
    }, { restartable: true }));
    const apps = plan.apps.map((a) => supervisor.start({ name: a.name, role: "app", logFile: log(a.name), ...sampleAppCommand(a.script, a.args) }));
    const ready = (c: Child, url: string) => waitUntil(`ztunnel ${c.name}`, () => httpReady(url), { child: c, timeoutMs: options.timeoutMs });
    await step(`starting ${plan.nodes.length} ztunnel${plan.nodes.length === 1 ? "" : "s"}`,
      () => Promise.all(plan.nodes.map((n, i) => ready(ztunnels[i]!, `http://${n.address}:15021/healthz/ready`))),
      () => `ztunnels ready: ${plan.nodes.map((n) => `${n.name} (${n.address})`).join(", ")}`);
    if (apps.length > 0) {
      await step("starting the sample apps",
        () => Promise.all(plan.apps.map((a, i) => waitUntil(`app ${a.name}`, () => listening(a.address, a.port), { child: apps[i]!, timeoutMs: options.timeoutMs }))),
        () => `apps listening: ${plan.apps.map((a) => `${a.name} (${a.address}:${a.port})`).join(", ")}`);
    }
    // Waypoints need their ztunnels' state (their Services' endpoints) before they are of use.
    const waypoints = new DevWaypoints(plan, supervisor, cp, io, options.timeoutMs);
    await step("starting the waypoints of the store", () => waypoints.sync(),
      () => `waypoints ready: ${waypoints.running.map((w) => `${w.key} (${w.address})`).join(", ") || "none"}`);
    const prometheus = await startDevPrometheus(plan, supervisor, options.timeoutMs);
    if ("url" in prometheus) io.out(`${io.color.green("✓")} prometheus ready on ${prometheus.url} (discovers the mesh at http://${plan.controlplane.metricsListen}/sd/prometheus)\n`);
    recordProcesses(plan, supervisor);
    // A waypoint started or stopped later is recorded too, so a killed run's leftovers are all found.
    waypoints.watch(500, () => recordProcesses(plan, supervisor));
    watching = true;
    return { samples, prometheus };
  } finally {
    // The waypoint watch keeps using the client until the supervisor stops.
    if (!watching) cp.close();
  }
}

/** Writes dev.json: this process and every child's current pid (again after a restart). */
export function recordProcesses(plan: DevPlan, supervisor: Supervisor): void {
  writeProcessFile(plan.processFile, {
    pid: process.pid,
    command: ownCommandLine(),
    startedAt: new Date().toISOString(),
    processes: supervisor.children.map((c) => ({ name: c.name, pid: c.pid, command: c.command })),
  });
}

function describeSamples(s: SamplesResult): string {
  const created = s.changes.filter((c) => c.verb === "created").length;
  const configured = s.changes.filter((c) => c.verb === "configured").length;
  const parts = [
    created ? `${created} created` : "", configured ? `${configured} reset` : "",
    s.kept ? `${s.kept} already in the store, kept as they are (--reset re-applies them)` : "",
  ].filter(Boolean);
  return `samples/demo.yaml: ${parts.join(", ") || "unchanged"}`;
}

/** Refuses to run twice; ends what a killed earlier run left behind. */
async function endLeftovers(plan: DevPlan, io: Io): Promise<void> {
  const { supervisor, processes } = readLeftovers(plan.processFile);
  if (supervisor) {
    throw new CommandError(`ambit dev is already running with state in ${plan.stateDir} (pid ${supervisor.pid}); stop it first (Ctrl-C in its terminal)`);
  }
  if (processes.length === 0) return;
  io.err(`stopping ${processes.length} process${processes.length === 1 ? "" : "es"} an earlier ambit dev left running: ${processes.map((p) => `${p.name} (pid ${p.pid})`).join(", ")}\n`);
  for (const p of processes) kill(p.pid, "SIGTERM");
  const deadline = Date.now() + 5000;
  while (processes.some(stillRunning) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const p of processes.filter(stillRunning)) kill(p.pid, "SIGKILL");
}

function kill(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone
  }
}
