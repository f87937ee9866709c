// `ambit proxy-status`: each ztunnel's xDS stream as the controlplane sees it —
// connected or not, per resource type the last ACKed version, what is pending,
// and the last NACK with the ztunnel's message (istioctl proxy-status).
import type { Command } from "../command.ts";
import { CONTROLPLANE_FLAGS, OUTPUT_FLAG } from "../common_flags.ts";
import { controlplaneFromFlags, type ProxyStatus } from "../controlplane_client.ts";
import type { Io } from "../io.ts";
import { age, type OutputFormat, render, table } from "../output.ts";
import { latestStreams } from "../ztunnel_admin.ts";

export const proxyStatusCommand: Command = {
  name: "proxy-status",
  aliases: ["ps"],
  summary: "each ztunnel's xDS sync state: connected, ACKed versions, pending, NACKs with their messages",
  usage: "proxy-status [node] [flags]",
  description: "Per type: SYNCED (last ACKed version), PENDING (sent, not answered yet) or NACKED (the last response\n" +
    "was refused; the message follows the table).",
  flags: [{ name: "all", kind: "boolean", help: "also show earlier, disconnected streams" }, OUTPUT_FLAG, ...CONTROLPLANE_FLAGS],
  examples: ["ambit proxy-status", "ambit proxy-status node-a -o json"],
  async run({ flags, args, io }) {
    const cp = controlplaneFromFlags(flags, io.env);
    let proxies: ProxyStatus[];
    try {
      proxies = (await io.progress("asking the controlplane", cp.proxyStatus())).proxies;
    } finally {
      cp.close();
    }
    if (!flags.all) proxies = latestStreams(proxies);
    if (args[0]) proxies = proxies.filter((p) => p.node.nodeName === args[0]);
    if (proxies.length === 0 && flags.output === "table") {
      io.err(args[0] ? `no stream from node ${args[0]}\n` : "no ztunnel has connected to the controlplane\n");
      return args[0] ? 1 : 0;
    }
    io.out(render(flags.output as OutputFormat, proxies, () => statusTable(proxies, io)));
    return 0;
  },
};

const short = (typeUrl: string) => typeUrl.split("/").pop()!;

/** The last response of this type was refused. */
function isNacked(t: ProxyStatus["types"][number]): boolean {
  return t.lastNack !== undefined && t.lastNack.nonce === t.lastSentNonce;
}

function cell(t: ProxyStatus["types"][number] | undefined): string {
  if (!t) return "NOT SENT";
  if (isNacked(t)) return "NACKED";
  if (t.pendingNonces > 0) return `PENDING (${t.pendingNonces})`;
  return `SYNCED (${t.lastAckedVersion ?? "?"})`;
}

function statusTable(proxies: readonly ProxyStatus[], io: Io): string {
  const types = [...new Set(proxies.flatMap((p) => p.types.map((t) => t.typeUrl)))];
  const headers = ["NODE", "ADDRESS", "STATUS", ...types.map((t) => short(t).toUpperCase()), "SINCE"];
  const paint = (v: string) => v.startsWith("NACKED") || v.startsWith("DISCONNECTED") ? io.color.red(v) : v.startsWith("PENDING") ? io.color.yellow(v) : v;
  const rows = proxies.map((p) => [
    p.node.nodeName, p.node.ips?.join(","), p.connected ? "CONNECTED" : "DISCONNECTED",
    ...types.map((u) => cell(p.types.find((t) => t.typeUrl === u))), age(p.connected ? p.connectedAt : p.disconnectedAt),
  ]);
  let out = table(headers, rows, paint);
  const nacks = proxies.flatMap((p) => p.types.filter((t) => t.lastNack).map((t) => ({ p, t })));
  if (nacks.length > 0) {
    out += "\nNACKs:\n";
    for (const { p, t } of nacks) {
      const n = t.lastNack!;
      const state = isNacked(t) ? io.color.red("current") : "earlier";
      out += `  ${p.node.nodeName} ${short(t.typeUrl)} (${state}, ${age(n.at)} ago): ${n.message}` +
        (n.failedResources.length ? ` [rejected: ${n.failedResources.join(", ")}]` : "") + "\n";
    }
  }
  return out;
}
