// Two file-mode ztunnels (node-a, node-b) on a runtime bench/runtimes.ts names,
// rather than the runtime running the bench as testing/mesh.ts would pick.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { loopbackAddress } from "../testing/loopback.ts";
import { type TestNode, waitReady, workload } from "../testing/mesh.ts";
import { startProcess } from "../testing/processes.ts";
import { registerSocksCredentials } from "../testing/socks_credentials.ts";
import { repoRoot } from "../testing/runtime_command.ts";

/** The runtimes compared, and how each runs a TypeScript entry point. */
export const RUNTIMES = {
  bun: (entry: string, args: string[]): [string, string[]] => [path.join(repoRoot, "node_modules", ".bin", "bun"), ["run", path.join(repoRoot, entry), ...args]],
  deno: (entry: string, args: string[]): [string, string[]] => [path.join(repoRoot, "node_modules", ".bin", "deno"), ["run", "-A", "--no-check", path.join(repoRoot, entry), ...args]],
} as const;

/** A client workload on node-a and a sink workload on node-b, both ztunnels on `runtime`. */
export interface RuntimeMesh {
  readonly client: string;
  readonly sink: string;
  readonly nodes: readonly [TestNode, TestNode];
  stop(): Promise<void>;
}

/** Starts the pair and waits until both are ready. */
export async function startRuntimeMesh(runtime: keyof typeof RUNTIMES, client: string, sink: string): Promise<RuntimeMesh> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ambit-bench-${runtime}-`));
  const configFile = path.join(dir, "mesh.yaml");
  fs.writeFileSync(configFile, stringify({
    workloads: [workload({ name: "client", ip: client, node: "node-a" }), workload({ name: "sink", ip: sink, node: "node-b" })],
    services: [],
  }));
  registerSocksCredentials(path.join(dir, "socks"));
  const nodes = ["node-a", "node-b"].map((name): TestNode => {
    const address = loopbackAddress();
    const [cmd, args] = RUNTIMES[runtime]("ztunnel/main.ts", ["--node", name, "--address", address, "--local-config", configFile, "--ca-dir", path.join(dir, "ca"),
      "--socks-credentials-dir", path.join(dir, "socks")]);
    return {
      name,
      address,
      proc: startProcess(cmd, args),
      admin: (p, init) => fetch(`http://${address}:15000${p}`, init),
      metrics: () => fetch(`http://${address}:15020/metrics`).then((r) => r.text()),
    };
  }) as [TestNode, TestNode];
  const stop = async () => {
    for (const n of nodes) n.proc.kill("SIGKILL");
    await Promise.all(nodes.map((n) => n.proc.exited));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(nodes.map((n) => waitReady(n, 60_000)));
  } catch (e) {
    await stop();
    throw e;
  }
  return { client, sink, nodes, stop };
}
