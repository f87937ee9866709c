// `ambit waypoint apply|generate|list|status|delete|token`, with istioctl's
// habits: `-n ns`, `--name` (default "waypoint"), `--for service|workload|all`,
// `--enroll-namespace`, `--wait`. A waypoint is a Gateway of class
// istio-waypoint (docs/waypoint_controlplane.md); `ambit dev` runs its process.
import { stringify } from "yaml";
import type { Command } from "../command.ts";
import { CONTROLPLANE_FLAGS, NAMESPACE_FLAG, OUTPUT_FLAG } from "../common_flags.ts";
import { type ControlplaneClient, controlplaneFromFlags, type WaypointStatus } from "../controlplane_client.ts";
import { CommandError, UsageError } from "../errors.ts";
import type { Io } from "../io.ts";
import { type OutputFormat, render, table } from "../output.ts";
import { DEFAULT_WAYPOINT_NAME, enrolledNamespace, WAYPOINT_FOR_VALUES, waypointGateway } from "./_waypoint_gateway.ts";
import { printChanges } from "./_report.ts";

const VERBS = ["apply", "generate", "list", "status", "delete", "config", "token"] as const;

export const waypointCommand: Command = {
  name: "waypoint",
  summary: "waypoints: write one (apply, generate), see them (list, status), remove them (delete), their tokens",
  usage: "waypoint (apply|generate|list|status|delete|config|token create|token revoke) [name...] [flags]",
  description: "apply writes the waypoint Gateway (class istio-waypoint, listener mesh 15008/HBONE) and with\n" +
    "--enroll-namespace labels the namespace istio.io/use-waypoint=<name>; --wait waits until its process is\n" +
    "connected. generate prints the Gateway without applying it. delete removes the named waypoints (or --all in\n" +
    "the namespace). config shows what the controlplane sends the waypoint (its routes, in the order they are\n" +
    "tried; -o yaml for everything). token create prints the token a waypoint process authenticates with over TLS.",
  flags: [
    NAMESPACE_FLAG,
    { name: "name", kind: "string", placeholder: "name", help: `the waypoint's name (default ${DEFAULT_WAYPOINT_NAME})` },
    { name: "for", kind: "string", values: WAYPOINT_FOR_VALUES, default: "service", help: "the traffic it takes (label istio.io/waypoint-for)" },
    { name: "enroll-namespace", kind: "boolean", help: "apply: label the namespace to send its services through this waypoint" },
    { name: "wait", kind: "boolean", help: "apply: wait until the waypoint's process is connected to the controlplane" },
    { name: "timeout", kind: "number", default: 60, placeholder: "s", help: "apply --wait: give up after this many seconds" },
    { name: "all", kind: "boolean", help: "delete: every waypoint in the namespace" },
    { name: "all-namespaces", short: "A", kind: "boolean", help: "list: every namespace" },
    OUTPUT_FLAG,
    ...CONTROLPLANE_FLAGS,
  ],
  examples: [
    "ambit waypoint generate -n demo",
    "ambit waypoint apply -n demo --enroll-namespace --wait",
    "ambit waypoint list -A",
    "ambit waypoint status -n demo --name waypoint",
    "ambit waypoint config -n demo",
    "ambit waypoint token create -n demo --name waypoint",
    "ambit waypoint delete -n demo waypoint",
  ],
  async run({ flags, args, io }) {
    const [verb, ...rest] = args;
    if (!VERBS.includes(verb as typeof VERBS[number])) throw new UsageError(`expected one of ${VERBS.join(", ")}`);
    const namespace = String(flags.namespace ?? "default");
    const name = String(flags.name ?? DEFAULT_WAYPOINT_NAME);
    const output = flags.output as OutputFormat;
    const gateway = waypointGateway(namespace, name, String(flags.for ?? "service"));
    if (verb === "generate") {
      io.out(output === "json" ? JSON.stringify(gateway, null, 2) + "\n" : stringify(gateway, { lineWidth: 0 }));
      return 0;
    }
    const cp = controlplaneFromFlags(flags, io.env);
    try {
      switch (verb) {
        case "apply": return await apply(cp, io, gateway, flags);
        case "list": return await list(cp, io, output, flags["all-namespaces"] === true ? undefined : namespace);
        case "status": return await status(cp, io, output, namespace, flags.name === undefined ? undefined : name);
        case "delete": return await remove(cp, io, namespace, flags.all === true ? undefined : rest.length > 0 ? rest : [name]);
        case "config": return await config(cp, io, output, namespace, name);
        default: return await token(cp, io, output, rest, namespace, name);
      }
    } finally {
      cp.close();
    }
  },
};

async function apply(cp: ControlplaneClient, io: Io, gateway: ReturnType<typeof waypointGateway>, flags: Record<string, unknown>): Promise<number> {
  const { namespace = "", name } = gateway.metadata;
  const objects = [gateway];
  if (flags["enroll-namespace"] === true) objects.push(enrolledNamespace(await cp.get("Namespace", undefined, namespace), namespace, name));
  const { changes } = await io.progress("applying the waypoint", cp.apply(objects, "ambit waypoint apply"));
  io.out(printChanges(io, changes, false));
  if (flags["enroll-namespace"] === true) io.out(`namespace ${namespace} labeled with "istio.io/use-waypoint=${name}"\n`);
  if (flags.wait !== true) return 0;
  const deadline = Date.now() + Number(flags.timeout ?? 60) * 1000;
  for (;;) {
    const wp = (await cp.waypoints()).waypoints.find((w) => w.namespace === namespace && w.name === name);
    if (wp?.connected) {
      io.out(`waypoint ${namespace}/${name} is ready: its process is connected\n`);
      return 0;
    }
    if (Date.now() > deadline) throw new CommandError(`waypoint ${namespace}/${name} did not connect within ${flags.timeout ?? 60} s (is its process running? ambit dev starts one)`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function list(cp: ControlplaneClient, io: Io, output: OutputFormat, namespace: string | undefined): Promise<number> {
  const waypoints = (await cp.waypoints()).waypoints.filter((w) => namespace === undefined || w.namespace === namespace);
  io.out(render(output, waypoints, () =>
    waypoints.length === 0
      ? `No waypoints found${namespace ? ` in namespace ${namespace}` : ""}.\n`
      : table(["NAMESPACE", "NAME", "FOR", "SERVICES", "CONNECTED"], waypoints.map((w) => [w.namespace, w.name, w.trafficFor, w.services.length, w.connected ? "True" : "False"]))));
  return 0;
}

async function status(cp: ControlplaneClient, io: Io, output: OutputFormat, namespace: string, name: string | undefined): Promise<number> {
  const waypoints = (await cp.waypoints()).waypoints.filter((w) => w.namespace === namespace && (name === undefined || w.name === name));
  if (waypoints.length === 0) throw new CommandError(`no waypoint ${name ? `${namespace}/${name}` : `in namespace ${namespace}`}`);
  io.out(render(output, waypoints, () => waypoints.map(describe).join("\n")));
  return waypoints.every((w) => w.connected) ? 0 : 1;
}

function describe(w: WaypointStatus): string {
  return [
    `waypoint ${w.namespace}/${w.name}`,
    `  for:        ${w.trafficFor}`,
    `  identity:   ${w.identity}`,
    `  instance:   ${w.programmed ? "registered" : "none yet (no workload with its gateway-name label)"}`,
    `  connected:  ${w.connected ? "yes" : "no"} (${w.streams} stream${w.streams === 1 ? "" : "s"})`,
    `  token:      ${w.token}`,
    `  services:   ${w.services.length === 0 ? "none" : w.services.join(", ")}`,
  ].join("\n") + "\n";
}

async function config(cp: ControlplaneClient, io: Io, output: OutputFormat, namespace: string, name: string): Promise<number> {
  const dump = await cp.waypointConfig(namespace, name);
  io.out(render(output, dump, () => {
    const rows = dump.routes.flatMap((r) => r.routes.map((e, i) => {
      const rule = r.rules[e.rule]!;
      const match = [e.match.path ? `${e.match.path.type} ${e.match.path.value}` : "", e.match.headers.length ? `${e.match.headers.length} header(s)` : ""].filter(Boolean).join(", ");
      const backends = rule.backends.map((b) => b.backend.kind === "service" ? `${b.backend.service}:${b.backend.port} (${b.weight})` : `unresolved (${b.weight})`).join(", ") || "none (500)";
      return [r.service, i, match, `${rule.route.kind} ${rule.route.namespace}/${rule.route.name}#${rule.route.rule}`, backends];
    }));
    const served = dump.routes.filter((r) => r.routes.length === 0).map((r) => [r.service, "-", "(default route)", "-", r.service]);
    return `waypoint ${dump.waypoint}: ${dump.services.length} services, ${dump.workloads.length} endpoints\n` +
      (rows.length + served.length === 0 ? "serves no Service\n" : table(["SERVICE", "#", "MATCH", "RULE", "BACKENDS (WEIGHT)"], [...rows, ...served]));
  }));
  return 0;
}

async function remove(cp: ControlplaneClient, io: Io, namespace: string, names: readonly string[] | undefined): Promise<number> {
  const targets = names ?? (await cp.waypoints()).waypoints.filter((w) => w.namespace === namespace).map((w) => w.name);
  if (targets.length === 0) {
    io.out(`No waypoints found in namespace ${namespace}.\n`);
    return 0;
  }
  let missing = 0;
  for (const n of targets) {
    const { changes } = await cp.deleteObject("Gateway.gateway.networking.k8s.io", namespace, n);
    io.out(printChanges(io, changes, false));
    if (changes.some((c) => c.verb === "not found")) missing++;
  }
  return missing > 0 ? 1 : 0;
}

async function token(cp: ControlplaneClient, io: Io, output: OutputFormat, rest: readonly string[], namespace: string, name: string): Promise<number> {
  const [action, ...extra] = rest;
  if ((action !== "create" && action !== "revoke") || extra.length > 0) throw new UsageError("usage: ambit waypoint token (create|revoke) [-n ns] [--name name]");
  if (action === "create") {
    const created = await cp.createWaypointToken(namespace, name);
    io.out(render(output, created, () => `${created.token}\n`));
    if (output === "table") {
      io.err(`Token for waypoint ${namespace}/${name}. Start its process with:\n  waypoint --gateway ${namespace}/${name} --address <ip> ` +
        `--controlplane <https://controlplane:15012> --token <token> --controlplane-ca <root-cert.pem>\n`);
    }
    return 0;
  }
  const revoked = await cp.revokeWaypointToken(namespace, name);
  io.out(render(output, revoked, () => `waypoint ${namespace}/${name}: token revoked\n`));
  return 0;
}
