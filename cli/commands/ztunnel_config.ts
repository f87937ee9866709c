// `ambit ztunnel-config <section>`: what ztunnels hold, from their admin APIs
// (istioctl ztunnel-config). Workloads, services and policies are the same on
// every node, so they come from one (--node, or the first by name);
// certificates and connections are each node's own, so every node is asked.
import type { Command } from "../command.ts";
import { NAMESPACE_FLAG, OUTPUT_FLAG } from "../common_flags.ts";
import { UsageError } from "../errors.ts";
import type { Io } from "../io.ts";
import { type OutputFormat, render } from "../output.ts";
import { adminGet, type ConfigDump, findNodes, NODE_FLAGS, type NodeTarget } from "../ztunnel_admin.ts";
import {
  certificateTable, connectionTable, type NodeCertificate, type NodeConnection, policyTable, serviceTable, workloadTable,
} from "./_ztunnel_tables.ts";

const SECTIONS = ["workloads", "services", "policies", "certificates", "connections", "all"] as const;
type Section = (typeof SECTIONS)[number];
const SINGULAR: Record<string, Section> = { workload: "workloads", service: "services", policy: "policies", certificate: "certificates", connection: "connections", secret: "certificates" };

export const ztunnelConfigCommand: Command = {
  name: "ztunnel-config",
  aliases: ["zc"],
  summary: "what the ztunnels hold: workloads, services, policies, certificates, connections, or all",
  usage: `ztunnel-config <${SECTIONS.join("|")}> [flags]`,
  description: "Nodes come from the controlplane's proxy-status (their addresses), or from --node-address.",
  flags: [NAMESPACE_FLAG, OUTPUT_FLAG, ...NODE_FLAGS],
  examples: ["ambit ztunnel-config workloads", "ambit ztunnel-config certificates --node node-b", "ambit ztunnel-config all -o json"],
  async run({ flags, args, io }) {
    const section = SINGULAR[args[0] ?? ""] ?? args[0] as Section;
    if (args.length !== 1 || !SECTIONS.includes(section)) throw new UsageError(`ztunnel-config needs one of ${SECTIONS.join(", ")}`);
    const port = flags["admin-port"] as number;
    const nodes = await findNodes(flags, io);
    const [first] = nodes;
    const ns = flags.namespace as string | undefined;
    const inNs = <T extends { namespace: string }>(xs: readonly T[]) => xs.filter((x) => !ns || x.namespace === ns);
    const dumps = await io.progress("asking the ztunnels", Promise.all(nodes.map((n) => adminGet<ConfigDump>(n, "/config_dump", port))));
    const shared = dumps[0]!;
    const data = {
      workloads: inNs(shared.workloads),
      services: inNs(shared.services),
      policies: inNs(shared.policies),
      certificates: dumps.flatMap((d, i) => d.certificates.map((c): NodeCertificate => ({ node: nodes[i]!.name, ...c }))),
      connections: section === "connections" || section === "all" ? await connectionsOf(nodes, port, io) : [],
    };
    const format = flags.output as OutputFormat;
    if (section !== "all") {
      if (format === "table" && data[section].length === 0) io.err(`No ${section} found${ns ? ` in namespace ${ns}` : ""}.\n`);
      else io.out(render(format, data[section], () => sectionTable(section, { ...data, allWorkloads: shared.workloads }, io)));
      return 0;
    }
    io.out(render(format, { node: first!.name, ...data }, () =>
      (["workloads", "services", "policies", "certificates", "connections"] as const)
        .map((s) => `${io.color.bold(s.toUpperCase())}\n${sectionTable(s, { ...data, allWorkloads: shared.workloads }, io)}`).join("\n")));
    return 0;
  },
};

async function connectionsOf(nodes: readonly NodeTarget[], port: number, io: Io): Promise<NodeConnection[]> {
  const lists = await io.progress("asking the ztunnels", Promise.all(nodes.map((n) => adminGet<{ connections: Omit<NodeConnection, "node">[] }>(n, "/debug/connections", port))));
  return lists.flatMap((l, i) => l.connections.map((c) => ({ node: nodes[i]!.name, ...c })));
}

type Data = { allWorkloads: ConfigDump["workloads"]; workloads: ConfigDump["workloads"]; services: ConfigDump["services"]; policies: ConfigDump["policies"]; certificates: NodeCertificate[]; connections: NodeConnection[] };

function sectionTable(section: Exclude<Section, "all">, d: Data, io: Io): string {
  switch (section) {
    case "workloads": return workloadTable(d.workloads, io);
    case "services": return serviceTable(d.services, d.allWorkloads);
    case "policies": return policyTable(d.policies);
    case "certificates": return certificateTable(d.certificates, io);
    case "connections": return connectionTable(d.connections);
  }
}
