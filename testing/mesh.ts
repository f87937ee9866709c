import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { loopbackAddress } from "./loopback.ts";
import { registerSocksCredentials } from "./socks_credentials.ts";
import { startProcess, type TestProcess } from "./processes.ts";
import { runtimeCommand } from "./runtime_command.ts";

/** A ztunnel process started for a test. */
export interface TestNode {
  readonly name: string;
  /** The node's own address: admin, metrics and readiness listen here. */
  readonly address: string;
  readonly proc: TestProcess;
  /** GET a path on one of the node's surfaces and parse JSON or return text. */
  admin(pathname: string, init?: RequestInit): Promise<Response>;
  metrics(): Promise<string>;
}

/** A mesh of ztunnels sharing one local config file and one dev CA. */
export interface TestMesh {
  readonly dir: string;
  readonly configFile: string;
  readonly caDir: string;
  /** Where the ztunnels write their workloads' SOCKS5 credentials. */
  readonly socksDir: string;
  readonly nodes: Record<string, TestNode>;
  /** Replaces the config file (atomically, by rename). */
  writeConfig(config: unknown): void;
  stop(): Promise<void>;
}

/** Starts one ztunnel per node name on the runtime running the test, and waits until each is ready. */
export async function startMesh(nodeNames: string[], config: unknown, extraArgs: string[] = []): Promise<TestMesh> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-mesh-"));
  const configFile = path.join(dir, "mesh.yaml");
  const caDir = path.join(dir, "ca");
  const socksDir = path.join(dir, "socks");
  const forgetCredentials = registerSocksCredentials(socksDir);
  const writeConfig = (c: unknown) => {
    const tmp = `${configFile}.tmp`;
    fs.writeFileSync(tmp, typeof c === "string" ? c : stringify(c));
    fs.renameSync(tmp, configFile);
  };
  writeConfig(config);
  const nodes: Record<string, TestNode> = {};
  for (const name of nodeNames) {
    const address = loopbackAddress();
    const [cmd, args] = runtimeCommand("ztunnel/main.ts", ["--node", name, "--address", address, "--local-config", configFile, "--ca-dir", caDir, "--socks-credentials-dir", socksDir, ...extraArgs]);
    nodes[name] = testNode(name, address, startProcess(cmd, args));
  }
  await Promise.all(Object.values(nodes).map((n) => waitReady(n)));
  return {
    dir,
    configFile,
    caDir,
    socksDir,
    nodes,
    writeConfig,
    stop: async () => {
      forgetCredentials();
      for (const n of Object.values(nodes)) n.proc.kill("SIGKILL");
      await Promise.all(Object.values(nodes).map((n) => n.proc.exited));
    },
  };
}

/** A started ztunnel process with helpers for its admin and metrics ports. */
export function testNode(name: string, address: string, proc: TestProcess): TestNode {
  return {
    name,
    address,
    proc,
    admin: (p, init) => fetch(`http://${address}:15000${p}`, init),
    metrics: () => fetch(`http://${address}:15020/metrics`).then((r) => r.text()),
  };
}

/** Polls /healthz/ready until 200, or fails with the process output at the deadline. */
export async function waitReady(node: TestNode, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (node.proc.child.exitCode !== null || node.proc.child.signalCode !== null) break;
    try {
      const r = await fetch(`http://${node.address}:15021/healthz/ready`);
      if (r.ok) return;
      last = await r.text();
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`ztunnel ${node.name} not ready (${last}); output:\n${node.proc.lines.slice(-20).join("\n")}`);
}

/** A workload entry in ztunnel's local config format. */
export function workload(o: { name: string; namespace?: string; serviceAccount?: string; ip: string; node: string; services?: Record<string, Record<number, number>>; status?: "Healthy" | "Unhealthy"; protocol?: "HBONE" | "TCP" }) {
  const ns = o.namespace ?? "default";
  return {
    uid: `cluster1//v1/Pod/${ns}/${o.name}`,
    name: o.name,
    namespace: ns,
    serviceAccount: o.serviceAccount ?? o.name,
    workloadIps: [o.ip],
    protocol: o.protocol ?? "HBONE",
    node: o.node,
    status: o.status ?? "Healthy",
    services: o.services ?? {},
  };
}

/** A service entry in ztunnel's local config format. */
export function service(o: { name: string; namespace?: string; vip: string; ports: Record<number, number> }) {
  const ns = o.namespace ?? "default";
  return { name: o.name, namespace: ns, hostname: `${o.name}.${ns}.svc.cluster.local`, vips: [`/${o.vip}`], ports: o.ports };
}
