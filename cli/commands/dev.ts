// `ambit dev` (what `npm run dev` runs): a whole mesh on this machine — the
// controlplane, a ztunnel per node and the sample apps as real processes on
// their own loopback addresses — ready to curl through. Ctrl-C stops it all.
import * as path from "node:path";
import type { Command } from "../command.ts";
import { UsageError } from "../errors.ts";
import type { Io } from "../io.ts";
import { table } from "../output.ts";
import { recordProcesses, startDevMesh } from "../dev/dev_mesh.ts";
import { cliHint } from "../dev/launcher.ts";
import { PROMETHEUS_MISSING } from "../dev/dev_prometheus.ts";
import { DEV_ADDRESSES, devPlan, type DevPlan, MAX_DEV_NODES } from "../dev/plan.ts";
import { removeProcessFile } from "../dev/process_file.ts";
import { ChildFailed } from "../dev/readiness.ts";
import { type Child, Supervisor } from "../dev/supervisor.ts";

/** Printed once everything is ready; tests and scripts wait for it. */
export const READY_LINE = "Ambit dev mesh is ready";
const GRACE_MS = 5000;

export const devCommand: Command = {
  name: "dev",
  summary: "run a local mesh: controlplane, ztunnels and sample apps, until Ctrl-C",
  usage: "dev [flags]",
  description: `The controlplane serves ${DEV_ADDRESSES.controlplaneDev} (h2c, no auth) and ${DEV_ADDRESSES.controlplaneTls} (TLS); node-a, node-b, …\n` +
    `run on ${DEV_ADDRESSES.nodePrefix}1, .2, …; the sample apps on ${DEV_ADDRESSES.appPrefix}1-3. State and logs live under --state-dir, and a\n` +
    "second run picks up what was applied before: the samples are applied only where absent (--reset re-applies them).\n" +
    `Ctrl-C, SIGTERM or SIGHUP stops every process it started (SIGTERM, ${GRACE_MS / 1000} s, then SIGKILL).`,
  flags: [
    { name: "nodes", kind: "number", default: 2, help: `ztunnel nodes to run (1 to ${MAX_DEV_NODES})` },
    { name: "samples", kind: "boolean", default: true, help: "apply samples/demo.yaml and run the sample apps (--no-samples: only the controlplane and ztunnels)" },
    { name: "reset", kind: "boolean", help: "re-apply every sample object, over changes made since" },
    { name: "state-dir", kind: "string", default: ".ambit", env: "AMBIT_DEV_STATE_DIR", placeholder: "dir", help: "controlplane store, CA, logs and pids" },
    { name: "timeout", kind: "number", default: 60, help: "seconds each process may take to become ready" },
  ],
  examples: ["npm run dev", "ambit dev --nodes 3", "ambit dev --no-samples --state-dir /tmp/mesh"],
  async run({ flags, io }) {
    const nodes = flags.nodes as number;
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_DEV_NODES) throw new UsageError(`--nodes must be a whole number from 1 to ${MAX_DEV_NODES}`);
    const plan = devPlan({ nodes, samples: flags.samples !== false, stateDir: path.normalize(flags["state-dir"] as string) });
    return runDev(plan, io, { samples: flags.samples !== false, reset: flags.reset === true, timeoutMs: (flags.timeout as number) * 1000 });
  },
};

async function runDev(plan: DevPlan, io: Io, options: { samples: boolean; reset: boolean; timeoutMs: number }): Promise<number> {
  const started = Date.now();
  let ready = false;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((r) => (finish = r));
  let stopping: Promise<void> | undefined;
  const stop = (why: string, code: number) => {
    stopping ??= (async () => {
      const running = supervisor.children.filter((c) => c.process.exitCode === null && c.process.signalCode === null).length;
      if (running > 0) io.out(`\n${why}: stopping ${running} process${running === 1 ? "" : "es"}…\n`);
      const { killed } = await supervisor.stopAll(GRACE_MS);
      if (supervisor.children.length > 0) {
        removeProcessFile(plan.processFile);
        io.out(`stopped${killed.length ? ` (killed after ${GRACE_MS / 1000} s: ${killed.join(", ")})` : ""}; state kept in ${plan.stateDir}\n`);
      }
      finish(code);
    })();
  };
  const supervisor = new Supervisor((child, code, { restartInMs }) => {
    if (!ready) return; // during start, the wait that notices reports it
    io.err(`${io.errColor.red("error:")} ${child.role} ${child.name} exited (${code}); its last lines (${child.logFile}):\n${indent(child.tail())}`);
    // The controlplane and ztunnels are restarted; the rest keeps serving its last good state meanwhile.
    if (restartInMs !== undefined) {
      const meanwhile = child.role === "controlplane" ? "the data plane keeps serving" : "the other nodes keep serving";
      io.err(`restarting ${child.name} in ${(restartInMs / 1000).toFixed(0)} s; ${meanwhile}\n`);
    }
    else stop(`${child.name} exited`, 1);
  }, (child) => {
    io.err(`${child.name} restarted (pid ${child.pid})\n`);
    if (ready) recordProcesses(plan, supervisor);
  });
  // SIGHUP too: a closed terminal must not leave the ztunnels (which take SIGHUP as "reload") running.
  const handlers = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((signal) => {
    const handler = () => (stopping ? supervisor.killAll() : stop(signal, 0));
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  try {
    io.out(`${io.color.bold("ambit dev")}: state and logs in ${plan.stateDir}/\n`);
    try {
      const { samples, prometheus } = await startDevMesh(plan, supervisor, io, options);
      ready = true;
      io.out("\n" + summary(plan, supervisor.children, samples !== undefined, prometheus));
      io.out(`\n${io.color.green(io.color.bold(READY_LINE))} (${supervisor.children.length} processes, ${((Date.now() - started) / 1000).toFixed(1)}s). Ctrl-C stops it.\n`);
    } catch (e) {
      if (!stopping) {
        io.err(`${io.errColor.red("error:")} ${(e as Error).message}\n`);
        if (e instanceof ChildFailed) io.err(`its last lines (${e.child.logFile}):\n${indent(e.child.tail())}`);
        stop("start failed", 1);
      }
    }
    return await finished;
  } finally {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
}

function indent(lines: readonly string[]): string {
  return lines.map((l) => `  ${l}\n`).join("");
}

/** What runs where, and two commands to try. */
function summary(plan: DevPlan, children: readonly Child[], samples: boolean, prometheus: { url: string } | { skipped: string } | undefined): string {
  const pid = (name: string) => children.find((c) => c.name === name)?.pid;
  const rows = [
    ["controlplane", "controlplane", "-", `${plan.controlplane.devUrl} (dev, no auth), https://${plan.controlplane.listen}, metrics http://${plan.controlplane.metricsListen}/metrics`, pid("controlplane")],
    ...plan.nodes.map((n) => ["ztunnel", n.name, n.name, `${n.address} (admin :15000, ready :15021)`, pid(n.name)]),
    ...plan.apps.map((a) => ["app", a.name, a.node, `${a.address}:${a.port} (SOCKS5 ${a.address}:${DEV_ADDRESSES.socksPort})`, pid(a.name)]),
    ...children.filter((c) => c.role === "waypoint").map((c) => [
      "waypoint", c.name, plan.nodes[0]!.name, `${/--address (\S+)/.exec(c.command)?.[1] ?? "?"} (HBONE :15008, ready :15021)`, c.pid,
    ]),
    ...(prometheus && "url" in prometheus ? [["prometheus", "prometheus", "-", `${prometheus.url} (targets from the controlplane's http_sd list)`, pid("prometheus")]] : []),
  ];
  const client = plan.apps.find((a) => a.name === "client");
  const tries = [
    // The client's own SOCKS5 credentials (docs/security.md): curl acts as the client workload.
    ...(samples && client ? [`curl -x "$(cat ${path.join(plan.socksDir, client.namespace, client.name)})" http://hello.demo.svc.cluster.local/`] : []),
    // The L7 demo: 90/10 through the waypoint; the header sends every request to v2.
    ...(samples && client ? [`curl -x "$(cat ${path.join(plan.socksDir, client.namespace, client.name)})" -H 'x-canary: true' http://hello-l7.demo.svc.cluster.local/`] : []),
    `${cliHint()} ztunnel-config workloads`,
    ...(samples ? [] : [`${cliHint()} proxy-status`]),
  ];
  return table(["ROLE", "NAME", "NODE", "ADDRESS", "PID"], rows.map((r) => r.map((c) => c === undefined ? undefined : String(c)))) +
    `\nLogs: ${path.join(plan.logDir, "<name>.log")}\n` +
    `Service graph: http://${DEV_ADDRESSES.dashboard}/ (${cliHint()} dashboard)\n` +
    (prometheus && "url" in prometheus
      ? `Metrics: Prometheus at ${prometheus.url}, config ${plan.prometheusConfig} (Istio's labels, so its Grafana dashboards and Kiali work unchanged)\n`
      : `Metrics: ${prometheus?.skipped ?? PROMETHEUS_MISSING}\n`) +
    `\nTry:\n${tries.map((t) => `  ${t}\n`).join("")}`;
}
