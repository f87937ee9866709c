// Test hosts as network namespaces joined by veth pairs, made and removed by the
// test (only addresses inside them are ever used). Removal runs on afterAll and,
// should the test process die first, on exit; deleting a namespace removes its
// veth ends, its nftables rules and its conntrack entries with it.
import { spawnSync } from "node:child_process";
import { runCommand } from "./processes.ts";

/** Why namespace tests cannot run here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (ip netns, nftables); CI runs as root";
  for (const tool of ["ip", "nft", "setpriv", "curl"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `needs ${tool} (scripts/test_packages.txt)`;
  }
  return undefined;
}

/** One test host. */
export interface TestHost {
  readonly name: string;
  /** Its address on the link between the hosts. */
  readonly address: string;
  /** Runs a command inside the host; rejects on a non-zero exit unless `allowFail`. */
  run(cmd: string, args: string[], options?: { input?: string; allowFail?: boolean; timeoutMs?: number }): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** The argv prefix that runs a command inside the host (for long-running processes). */
  exec(cmd: string, args: string[]): [string, string[]];
}

/** Two hosts on one link, `10.<n>.0.1` and `10.<n>.0.2`, each routing everything to the other. */
export interface TestHostPair {
  readonly subnet: number;
  readonly a: TestHost;
  readonly b: TestHost;
  /** Adds an address (a workload's) to a host's link interface. */
  addAddress(host: TestHost, address: string): Promise<void>;
  remove(): Promise<void>;
}

let made = 0;

/** Creates two namespaces with a veth pair between them (names stay under 15 bytes, as interface names must). */
export async function createHostPair(prefix = "ambit"): Promise<TestHostPair> {
  const tag = `${prefix}${process.pid % 100000}${String.fromCharCode(97 + (made++ % 26))}`;
  const subnet = 64 + Math.floor(Math.random() * 180);
  const names = [`${tag}a`, `${tag}b`];
  const remove = () => {
    for (const n of names) spawnSync("ip", ["netns", "del", n]);
  };
  process.on("exit", remove);
  const sh = async (args: string[]) => {
    const r = await runCommand("ip", args, { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.trim()}`);
  };
  const host = (name: string, address: string, dev: string): TestHost & { dev: string } => ({
    name,
    address,
    dev,
    exec: (cmd, args) => ["ip", ["netns", "exec", name, cmd, ...args]],
    run: async (cmd, args, o = {}) => {
      const r = await runCommand("ip", ["netns", "exec", name, cmd, ...args], { input: o.input, timeoutMs: o.timeoutMs ?? 30_000 });
      if (r.code !== 0 && !o.allowFail) throw new Error(`${name}: ${cmd} ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
      return r;
    },
  });
  const a = host(names[0]!, `10.${subnet}.0.1`, "veth0");
  const b = host(names[1]!, `10.${subnet}.0.2`, "veth0");
  try {
    for (const n of names) await sh(["netns", "add", n]);
    await sh(["link", "add", "veth0", "netns", a.name, "type", "veth", "peer", "name", "veth0", "netns", b.name]);
    for (const [h, peer] of [[a, b], [b, a]] as const) {
      await sh(["-n", h.name, "link", "set", "lo", "up"]);
      await sh(["-n", h.name, "addr", "add", `${h.address}/24`, "dev", h.dev]);
      await sh(["-n", h.name, "link", "set", h.dev, "up"]);
      await sh(["-n", h.name, "route", "add", "default", "via", peer.address]);
    }
  } catch (e) {
    remove();
    throw e;
  }
  return {
    subnet,
    a,
    b,
    addAddress: (h, address) => sh(["-n", h.name, "addr", "add", `${address}/32`, "dev", "veth0"]),
    remove: async () => {
      remove();
      process.off("exit", remove);
    },
  };
}
