/**
 * What `ambit dev` runs and where, decided once from its flags: the
 * controlplane's endpoints, one ztunnel per node on 127.0.10.<n>, and the
 * sample apps on 127.0.20.<n> (client and hello-v1 on the first node, hello-v2
 * on the second, or the first when there is only one). Pure, so it is tested
 * without starting anything.
 *
 * @example
 * ```ts
 * const plan = devPlan({ nodes: 2, samples: true, stateDir: ".ambit" });
 * plan.apps.map((a) => `${a.name} ${a.address} ${a.node}`);
 * ```
 * @module
 */
import * as path from "node:path";

/** The fixed addresses of dev mode (docs/cli.md). */
export const DEV_ADDRESSES = Object.freeze({
  controlplaneDev: "127.0.0.1:15010",
  controlplaneTls: "127.0.0.1:15012",
  controlplaneMetrics: "127.0.0.1:15014",
  /** The service-graph page (Kiali's port). */
  dashboard: "127.0.0.1:20001",
  prometheus: "127.0.0.1:9090",
  nodePrefix: "127.0.10.",
  appPrefix: "127.0.20.",
  appPort: 8080,
  socksPort: 15080,
});

/** The most nodes dev mode starts: one letter each, node-a … node-z. */
export const MAX_DEV_NODES = 26;

export interface DevNode {
  readonly name: string;
  readonly address: string;
}

/** A sample app: the Pod it is, where it runs, and its entry point under samples/apps/. */
export interface DevApp {
  readonly name: string;
  readonly namespace: string;
  readonly node: string;
  readonly address: string;
  readonly port: number;
  readonly script: string;
  readonly args: readonly string[];
}

export interface DevPlan {
  readonly stateDir: string;
  readonly controlplane: { readonly stateDir: string; readonly devListen: string; readonly listen: string; readonly devUrl: string; readonly metricsListen: string };
  /** A Prometheus configuration scraping this mesh with Istio's labels (docs/telemetry.md). */
  readonly prometheusConfig: string;
  readonly nodes: readonly DevNode[];
  readonly apps: readonly DevApp[];
  /** Where each process's output goes. */
  readonly logDir: string;
  /** Pids of what is running, for the next run to find leftovers. */
  readonly processFile: string;
  /** Where the ztunnels write each workload's SOCKS5 credentials (`<dir>/<namespace>/<name>`). */
  readonly socksDir: string;
}

/** The plan for `--nodes`, `--no-samples` and `--state-dir`. */
export function devPlan(options: { nodes: number; samples: boolean; stateDir: string }): DevPlan {
  const nodes = Array.from({ length: options.nodes }, (_, i) => ({
    name: `node-${String.fromCharCode(97 + i)}`,
    address: `${DEV_ADDRESSES.nodePrefix}${i + 1}`,
  }));
  const second = nodes[1 % nodes.length]!.name;
  const socksDir = path.join(options.stateDir, "socks");
  const app = (i: number, name: string, node: string, script: string, extra: string[]): DevApp => {
    const address = `${DEV_ADDRESSES.appPrefix}${i}`;
    const port = DEV_ADDRESSES.appPort;
    return { name, namespace: "demo", node, address, port, script, args: [...extra, "--node", node, "--address", address, "--port", String(port)] };
  };
  const apps = options.samples
    ? [
      // Only the client calls out: it alone gets its credentials file, as a workload would be handed its own.
      app(1, "client", nodes[0]!.name, "client.ts", ["--socks-credentials", path.join(socksDir, "demo", "client")]),
      app(2, "hello-v1", nodes[0]!.name, "hello.ts", ["--version", "v1"]),
      app(3, "hello-v2", second, "hello.ts", ["--version", "v2"]),
    ]
    : [];
  return {
    stateDir: options.stateDir,
    controlplane: {
      stateDir: path.join(options.stateDir, "controlplane"),
      devListen: DEV_ADDRESSES.controlplaneDev,
      listen: DEV_ADDRESSES.controlplaneTls,
      devUrl: `http://${DEV_ADDRESSES.controlplaneDev}`,
      metricsListen: DEV_ADDRESSES.controlplaneMetrics,
    },
    prometheusConfig: path.join(options.stateDir, "prometheus.yml"),
    nodes,
    apps,
    logDir: path.join(options.stateDir, "logs"),
    processFile: path.join(options.stateDir, "dev.json"),
    socksDir,
  };
}
