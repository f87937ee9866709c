// The nftables rules that capture workloads on one node, as a pure function of
// the node's captured workloads (docs/capture.md). One table of Ambit's own,
// replaced whole in one transaction, so installing twice changes nothing and
// uninstalling (deleting the table) leaves every other rule as it was.
import { isIP } from "node:net";
import type { WorkloadCapture } from "../xds/resources.ts";

/** A workload as the rules see it. */
export interface CapturedWorkload {
  /** `namespace/name`, for comments and errors. */
  readonly name: string;
  readonly addresses: readonly string[];
  readonly capture: WorkloadCapture;
}

/** The ztunnel ports the rules point at. */
export interface CapturePorts {
  readonly outbound: number;
  /** The workload's SOCKS5 port, which the network must not reach (it speaks as the workload). */
  readonly socks: number;
  readonly plaintext: number;
  readonly hbone: number;
  readonly dns: number;
}

export const DEFAULT_CAPTURE_PORTS: CapturePorts = { outbound: 15001, socks: 15080, plaintext: 15006, hbone: 15008, dns: 15053 };
export const DEFAULT_CAPTURE_TABLE = "ambit";
/** The mark a ztunnel socket may carry to be left alone (Istio's 0x539). */
export const ZTUNNEL_MARK = 0x539;

/** What to render. */
export interface CaptureRulesInput {
  readonly workloads: readonly CapturedWorkload[];
  readonly table?: string;
  readonly ports?: CapturePorts;
  /** Redirect captured workloads' DNS (udp and tcp 53) to the proxy. Default true. */
  readonly dns?: boolean;
  /**
   * "closed" (default): while the ztunnel is down, captured traffic is refused.
   * "open": each redirect holds only while the ztunnel keeps its heartbeat
   * element in the table's `ztunnel_alive` set fresh; then traffic goes direct.
   */
  readonly failMode?: "closed" | "open";
  /** The ztunnel's own uid: a workload with it would capture the ztunnel. */
  readonly ztunnelUid?: number;
}

/** The rendered rules, or every reason they cannot be. */
export type CaptureRules =
  | { readonly ok: true; readonly table: string; readonly ruleset: string }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * The loopback address outbound connections of the workload owned by `uid` are
 * sent to (127.128.0.0/9 holds uids below 2^23): the listener a connection
 * lands on names its workload, so the ztunnel need not look the socket's owner
 * up (reading /proc/net/tcp costs milliseconds a connection: it walks the
 * kernel's whole socket hash).
 */
export function ownerCaptureAddress(uid: number): string | undefined {
  if (!Number.isInteger(uid) || uid < 1 || uid >= 2 ** 23) return undefined;
  return `127.${128 | (uid >> 16)}.${(uid >> 8) & 255}.${uid & 255}`;
}

/** Seconds a heartbeat keeps fail-open capture on; the ztunnel refreshes at a third of it. */
export const HEARTBEAT_SECONDS = 6;

/**
 * Renders an `nft -f` script that (re)creates the capture table atomically.
 *
 * @example
 * renderCaptureRules({ workloads: [{ name: "demo/client", addresses: ["10.0.1.1"], capture: { mode: "owner", uid: 2001 } }] })
 */
export function renderCaptureRules(input: CaptureRulesInput): CaptureRules {
  const table = input.table ?? DEFAULT_CAPTURE_TABLE;
  const ports = input.ports ?? DEFAULT_CAPTURE_PORTS;
  const problems: string[] = [];
  if (!/^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(table)) problems.push(`table name "${table}" must be a letter then letters, digits or _ (at most 32)`);
  const uids: number[] = [];
  const owners: { workload: string; uid: number }[] = [];
  const addresses: { workload: string; address: string }[] = [];
  for (const w of input.workloads) {
    const c = w.capture;
    if (c.mode === "namespace") {
      problems.push(`Workload ${w.name}: capture mode "namespace" is designed but not served yet (docs/capture.md)`);
      continue;
    }
    if (!Number.isInteger(c.uid) || c.uid < 1) problems.push(`Workload ${w.name}: capture.uid ${c.uid} must be a positive integer (not root)`);
    else if (!ownerCaptureAddress(c.uid)) problems.push(`Workload ${w.name}: capture.uid ${c.uid} is too large (owner capture serves uids below 8388608)`);
    if (c.uid === input.ztunnelUid) problems.push(`Workload ${w.name}: capture.uid ${c.uid} is the ztunnel's own uid; its traffic would loop`);
    if (uids.includes(c.uid)) problems.push(`Workload ${w.name}: capture.uid ${c.uid} is already another workload's`);
    uids.push(c.uid);
    owners.push({ workload: w.name, uid: c.uid });
    for (const a of w.addresses) {
      if (isIP(a) === 0) problems.push(`Workload ${w.name}: address "${a}" is not an IP address`);
      else addresses.push({ workload: w.name, address: a });
    }
  }
  if (problems.length > 0) return { ok: false, problems };

  const open = input.failMode === "open";
  // The guard a fail-open redirect needs: the ztunnel's heartbeat element is still there.
  const alive = open ? `meta nfproto @ztunnel_alive ` : "";
  const lines: string[] = [
    `# Ambit transparent capture (ambit capture install). Replaced whole on every install.`,
    `table inet ${table}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
  ];
  // Born alive: install just read the ztunnel's config, so it is up; its heartbeat takes over from here.
  if (open) lines.push(`  set ztunnel_alive {`, `    type nf_proto`, `    flags timeout`, `    elements = { ipv4 timeout ${HEARTBEAT_SECONDS}s, ipv6 timeout ${HEARTBEAT_SECONDS}s }`, `  }`);
  lines.push(
    `  chain output {`,
    `    type nat hook output priority -100; policy accept;`,
    `    meta mark ${hex(ZTUNNEL_MARK)} return comment "ztunnel's own sockets"`,
  );
  if (uids.length > 0) {
    lines.push(`    meta skuid != { ${uids.join(", ")} } return comment "only captured workloads' processes"`);
    if (input.dns ?? true) {
      lines.push(`    ${alive}udp dport 53 redirect to :${ports.dns} comment "DNS to the proxy"`);
      lines.push(`    ${alive}tcp dport 53 redirect to :${ports.dns}`);
    }
    lines.push(`    ip daddr 127.0.0.0/8 return comment "loopback stays in the workload"`);
    lines.push(`    ip6 daddr ::1 return`);
    for (const o of owners) {
      const to = `${ownerCaptureAddress(o.uid)}:${ports.outbound}`;
      lines.push(`    ${alive}meta skuid ${o.uid} meta nfproto ipv4 meta l4proto tcp dnat ip to ${to} comment "outbound of ${o.workload} to ztunnel"`);
    }
  }
  lines.push(`  }`);
  if (uids.length > 0) {
    // IPv6 cannot be sent to an IPv4 listener that names the workload: refused rather than leaked.
    lines.push(
      `  chain output_filter {`,
      `    type filter hook output priority 0; policy accept;`,
      `    ${alive}meta skuid { ${uids.join(", ")} } meta nfproto ipv6 meta l4proto tcp ip6 daddr != ::1 reject with tcp reset comment "IPv6 outbound is not captured"`,
      `  }`,
    );
  }
  if (addresses.length > 0) {
    // Runs before the DNAT below, which would otherwise carry such a connection to 15006 and on to SOCKS5.
    lines.push(`  chain prerouting_filter {`, `    type filter hook prerouting priority -150; policy accept;`);
    for (const { workload, address } of addresses) {
      const family = isIP(address) === 4 ? "ip" : "ip6";
      lines.push(`    iifname != "lo" ${family} daddr ${address} tcp dport ${ports.socks} drop comment "SOCKS5 of ${workload} is for the host only"`);
    }
    lines.push(`  }`);
  }
  lines.push(`  chain prerouting {`, `    type nat hook prerouting priority dstnat; policy accept;`);
  for (const { workload, address } of addresses) {
    const family = isIP(address) === 4 ? "ip" : "ip6";
    const to = family === "ip" ? `${address}:${ports.plaintext}` : `[${address}]:${ports.plaintext}`;
    lines.push(`    ${alive}${family} daddr ${address} tcp dport != ${ports.hbone} dnat ${family} to ${to} comment "inbound plaintext to ${workload}"`);
  }
  lines.push(`  }`, `}`, ``);
  return { ok: true, table, ruleset: lines.join("\n") };
}

/** The script that removes the capture table (run only when it exists). */
export function renderUninstall(table = DEFAULT_CAPTURE_TABLE): string {
  return `delete table inet ${table}\n`;
}

/**
 * The script a fail-open ztunnel runs to keep capture on. `add` alone would not
 * move an existing element's expiry, so the set is emptied and refilled in the
 * same transaction (no moment without the element).
 */
export function renderHeartbeat(table = DEFAULT_CAPTURE_TABLE): string {
  return `flush set inet ${table} ztunnel_alive\nadd element inet ${table} ztunnel_alive { ipv4 timeout ${HEARTBEAT_SECONDS}s, ipv6 timeout ${HEARTBEAT_SECONDS}s }\n`;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}
