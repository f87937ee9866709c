// Two test hosts (network namespaces) each with a ztunnel in capture mode: a
// `client` workload on host A and a `hello` workload (service
// hello.demo.svc.cluster.local) on host B, each captured by its owner's uid.
// Shared by tests/capture_test.ts and bench/capture.ts; docs/capture.md.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { createHostPair, type TestHost, type TestHostPair } from "./netns.ts";
import { startProcess, type TestProcess } from "./processes.ts";
import { runtimeCommand } from "./runtime_command.ts";
import { registerSocksCredentials } from "./socks_credentials.ts";

export const CLIENT_UID = 2001;
export const HELLO_UID = 2002;
/** A user on either host that no rule captures. */
export const UNCAPTURED_UID = 2003;

/** What the mesh holds beyond the two workloads. */
export interface CaptureMeshOptions {
  /** hello's service ports: service port → target port. */
  readonly helloPorts: Record<number, number>;
  /** Policies in ztunnel's local config format. */
  readonly policies?: readonly unknown[];
}

/** The running hosts and ztunnels. */
export interface CaptureMesh {
  readonly hosts: TestHostPair;
  readonly dir: string;
  readonly ip: { readonly client: string; readonly hello: string; readonly vip: string };
  /** Replaces the policies in the config file (the ztunnels reload it). */
  writePolicies(policies: readonly unknown[]): void;
  /** Starts a long-running process inside a host; stopped by stop(). */
  start(h: TestHost, cmd: string, args: string[]): TestProcess;
  /** Starts a ztunnel (capture on, fail-open heartbeat on) and waits until it is ready. */
  ztunnel(h: TestHost, node: "node-a" | "node-b"): Promise<TestProcess>;
  /** Runs `ambit` inside a host. */
  cli(h: TestHost, args: string[], allowFail?: boolean): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Runs a command inside a host as `uid`. */
  runAs(h: TestHost, uid: number, cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  metrics(h: TestHost): Promise<string>;
  ruleset(h: TestHost): Promise<string>;
  stop(): Promise<void>;
}

/** Creates the hosts and writes the config; ztunnels are started by the caller (`ztunnel()`). */
export async function createCaptureMesh(options: CaptureMeshOptions): Promise<CaptureMesh> {
  const hosts = await createHostPair("amcap");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-capture-"));
  const processes: TestProcess[] = [];
  const net = (x: number, y: number) => `10.${hosts.subnet}.${x}.${y}`;
  const ip = { client: net(1, 1), hello: net(2, 1), vip: net(96, 10) };
  const stop = async () => {
    for (const p of processes.splice(0)) {
      p.kill("SIGKILL");
      await p.exited;
    }
    await hosts.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await hosts.addAddress(hosts.a, ip.client);
    await hosts.addAddress(hosts.b, ip.hello);
  } catch (e) {
    await stop();
    throw e;
  }
  const hello = "demo/hello.demo.svc.cluster.local";
  const config = {
    workloads: [
      { name: "client", namespace: "demo", serviceAccount: "client", workloadIps: [ip.client], protocol: "HBONE", node: "node-a", capture: { mode: "owner", uid: CLIENT_UID } },
      {
        name: "hello", namespace: "demo", serviceAccount: "hello", workloadIps: [ip.hello], protocol: "HBONE", node: "node-b",
        capture: { mode: "owner", uid: HELLO_UID }, services: { [hello]: options.helloPorts },
      },
    ],
    services: [{ name: "hello", namespace: "demo", hostname: "hello.demo.svc.cluster.local", vips: [`/${ip.vip}`], ports: options.helloPorts }],
    policies: options.policies ?? [],
  };
  const configFile = path.join(dir, "mesh.yaml");
  const writeConfig = (c: unknown) => {
    fs.writeFileSync(`${configFile}.tmp`, stringify(c));
    fs.renameSync(`${configFile}.tmp`, configFile);
  };
  writeConfig(config);
  const start = (h: TestHost, cmd: string, args: string[]) => {
    const [c, x] = h.exec(cmd, args);
    const p = startProcess(c, x);
    processes.push(p);
    return p;
  };
  return {
    hosts,
    dir,
    ip,
    start,
    stop,
    writePolicies: (policies) => writeConfig({ ...config, policies }),
    ztunnel: async (h, node) => {
      const [cmd, args] = runtimeCommand("ztunnel/main.ts", [
        "--node", node, "--address", h.address, "--local-config", configFile, "--ca-dir", path.join(dir, "ca"),
        "--capture", "--dns-upstream", "none", "--capture-heartbeat", "ambit",
        "--socks-credentials-dir", path.join(dir, "socks", node),
      ]);
      registerSocksCredentials(path.join(dir, "socks", node));
      const p = start(h, cmd, args);
      await p.waitForLine(/\tready\t/, 30_000);
      return p;
    },
    cli: (h, args, allowFail = false) => {
      const [cmd, x] = runtimeCommand("cli/main.ts", args);
      return h.run(cmd, x, { allowFail });
    },
    runAs: (h, uid, cmd, args) => h.run("setpriv", [`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", cmd, ...args], { allowFail: true, timeoutMs: 120_000 }),
    metrics: async (h) => (await h.run("curl", ["-sS", `http://${h.address}:15020/metrics`])).stdout,
    ruleset: async (h) => (await h.run("nft", ["list", "ruleset"])).stdout,
  };
}
