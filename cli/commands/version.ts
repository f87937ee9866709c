// `ambit version`: this client's version, the controlplane's, and each
// connected ztunnel's (from its istio_build metric, which every component sets).
import { runtimeName, runtimeVersion } from "../../runtime/serve.ts";
import { AMBIT_VERSION } from "../../telemetry/build_info.ts";
import type { Command } from "../command.ts";
import { CONTROLPLANE_FLAGS, OUTPUT_FLAG } from "../common_flags.ts";
import { controlplaneFromFlags } from "../controlplane_client.ts";
import { type OutputFormat, render, table } from "../output.ts";
import { latestStreams } from "../ztunnel_admin.ts";

interface Versions {
  client: { version: string; runtime: string };
  controlplane?: { url: string; version?: string; error?: string };
  nodes?: { node: string; address?: string; version?: string; error?: string }[];
}

export const versionCommand: Command = {
  name: "version",
  summary: "versions of this client, the controlplane and each ztunnel",
  usage: "version [flags]",
  flags: [
    { name: "client", kind: "boolean", help: "only this client's version; ask nothing" },
    { name: "metrics-port", kind: "number", default: 15020, help: "ztunnel metrics port (istio_build carries the version)" },
    OUTPUT_FLAG, ...CONTROLPLANE_FLAGS,
  ],
  examples: ["ambit version", "ambit version --client -o json"],
  async run({ flags, io }) {
    const v: Versions = { client: { version: AMBIT_VERSION, runtime: `${runtimeName} ${runtimeVersion}` } };
    let failed = false;
    if (!flags.client) {
      const cp = controlplaneFromFlags(flags, io.env);
      try {
        v.controlplane = { url: cp.url, version: (await io.progress("asking the controlplane", cp.version())).version };
        const nodes = latestStreams((await cp.proxyStatus()).proxies).filter((p) => p.connected);
        v.nodes = await Promise.all(nodes.map(async (p) => {
          const address = p.node.ips?.[0];
          try {
            const metrics = await (await fetch(`http://${address}:${flags["metrics-port"]}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
            const tag = /istio_build\{[^}]*tag="([^"]*)"/.exec(metrics)?.[1];
            return { node: p.node.nodeName, address, version: tag ?? "unknown" };
          } catch (e) {
            failed = true;
            return { node: p.node.nodeName, address, error: (e as Error).message };
          }
        }));
      } catch (e) {
        failed = true;
        v.controlplane = { url: cp.url, error: (e as Error).message };
      } finally {
        cp.close();
      }
    }
    io.out(render(flags.output as OutputFormat, v, () => table(["COMPONENT", "NAME", "ADDRESS", "VERSION"], [
      ["client", "ambit", "", `${v.client.version} (${v.client.runtime})`],
      ...(v.controlplane ? [["controlplane", "", v.controlplane.url, v.controlplane.version ?? `error: ${v.controlplane.error}`]] : []),
      ...(v.nodes ?? []).map((n) => ["ztunnel", n.node, n.address, n.version ?? `error: ${n.error}`]),
    ])));
    return failed ? 1 : 0;
  },
};
