// `ambit capture install | uninstall | status`: the nftables rules that capture
// this node's workloads for its ztunnel (docs/capture.md). The workloads come
// from the local ztunnel's admin API (those of its node with a `capture`
// field); the rules are rendered by capture/nftables.ts, printed, and applied
// with `nft -f -` in one transaction. Uninstall deletes Ambit's table only.
import { spawnSync } from "node:child_process";
import { type CapturedWorkload, DEFAULT_CAPTURE_TABLE, renderCaptureRules, renderUninstall } from "../../capture/mod.ts";
import type { Command } from "../command.ts";
import { CommandError, UsageError } from "../errors.ts";
import type { Io } from "../io.ts";
import { adminGet, type ConfigDump } from "../ztunnel_admin.ts";

const ACTIONS = ["install", "uninstall", "status"] as const;

export const captureCommand: Command = {
  name: "capture",
  summary: "install, remove or show the nftables rules that capture this node's workloads (no SOCKS5 needed)",
  usage: "capture <install|uninstall|status> [flags]",
  description: [
    "Run on the node, as root, in the node's network namespace. The workloads captured are the local ztunnel's",
    "(its /config_dump) whose config has a `capture` field. install replaces Ambit's own table in one",
    "transaction (running it twice changes nothing); uninstall deletes that table, leaving every other rule as it was.",
  ].join("\n"),
  flags: [
    { name: "admin-address", kind: "string", default: "127.0.0.1", help: "the local ztunnel's admin address" },
    { name: "admin-port", kind: "number", default: 15000, help: "the local ztunnel's admin port" },
    { name: "table", kind: "string", default: DEFAULT_CAPTURE_TABLE, help: "the nftables table (family inet) Ambit owns" },
    { name: "fail", kind: "string", values: ["closed", "open"], default: "closed", help: "when the ztunnel is down: closed refuses captured traffic; open lets it go direct (needs ztunnel --capture-heartbeat)" },
    { name: "dns", kind: "boolean", default: true, help: "redirect the workloads' DNS (udp/tcp 53) to the ztunnel's DNS proxy (--no-dns to leave it)" },
    { name: "ztunnel-uid", kind: "number", help: "the uid the ztunnel runs as; a workload with it is refused (default: this process's uid)" },
    { name: "dry-run", kind: "boolean", help: "print the rules; apply nothing" },
  ],
  examples: ["ambit capture install", "ambit capture install --fail open --dry-run", "ambit capture status", "ambit capture uninstall"],
  async run({ flags, args, io }) {
    const action = args[0] as (typeof ACTIONS)[number];
    if (args.length !== 1 || !ACTIONS.includes(action)) throw new UsageError(`capture needs one of ${ACTIONS.join(", ")}`);
    const table = flags.table as string;
    if (action === "uninstall") return uninstall(table, Boolean(flags["dry-run"]), io);
    if (action === "status") return status(table, io);
    const address = flags["admin-address"] as string;
    const dump = await adminGet<ConfigDump>({ name: address, address }, "/config_dump", flags["admin-port"] as number);
    const workloads: CapturedWorkload[] = dump.workloads
      .filter((w) => w.node === dump.node && w.capture && w.tunnelProtocol === "HBONE")
      .map((w) => ({ name: `${w.namespace}/${w.name}`, addresses: w.addresses, capture: w.capture! }));
    const rules = renderCaptureRules({
      workloads,
      table,
      failMode: flags.fail as "closed" | "open",
      dns: Boolean(flags.dns),
      ztunnelUid: (flags["ztunnel-uid"] as number | undefined) ?? process.getuid?.(),
    });
    if (!rules.ok) throw new CommandError(`cannot capture node ${dump.node}:\n  ${rules.problems.join("\n  ")}`);
    io.out(rules.ruleset);
    if (flags["dry-run"]) return 0;
    nft(["-f", "-"], rules.ruleset);
    io.err(`capture installed on node ${dump.node}: ${workloads.length} workload(s) in table inet ${table}, fail ${flags.fail}\n`);
    return 0;
  },
};

function uninstall(table: string, dryRun: boolean, io: Io): number {
  const present = tableListing(table) !== undefined;
  if (!present) {
    io.err(`no table inet ${table}: nothing to remove\n`);
    return 0;
  }
  io.out(renderUninstall(table));
  if (!dryRun) nft(["-f", "-"], renderUninstall(table));
  return 0;
}

function status(table: string, io: Io): number {
  const listing = tableListing(table);
  if (listing === undefined) {
    io.out(`capture: not installed (no table inet ${table})\n`);
    return 3;
  }
  const heartbeat = /set ztunnel_alive[^}]*elements = \{([^}]*)\}/.exec(listing);
  const mode = listing.includes("set ztunnel_alive") ? `fail open, ztunnel heartbeat ${heartbeat ? "fresh" : "missing: traffic goes direct"}` : "fail closed";
  io.out(`capture: installed (table inet ${table}, ${mode})\n${listing}`);
  return 0;
}

/** The table's listing, or undefined when it does not exist. */
function tableListing(table: string): string | undefined {
  const r = spawnSync("nft", ["list", "table", "inet", table], { encoding: "utf8" });
  if (r.error) throw new CommandError(`cannot run nft: ${r.error.message} (install nftables)`);
  return r.status === 0 ? r.stdout : undefined;
}

function nft(args: string[], input: string): void {
  const r = spawnSync("nft", args, { input, encoding: "utf8" });
  if (r.error) throw new CommandError(`cannot run nft: ${r.error.message} (install nftables)`);
  if (r.status !== 0) throw new CommandError(`nft ${args.join(" ")} failed (nothing was changed: it is one transaction):\n${r.stderr.trim()}`);
}
