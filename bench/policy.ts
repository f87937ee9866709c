// Connection-open latency through two ztunnels with 0, 100 and 1,000
// AuthorizationPolicies applying to the destination, as ratios to 0 policies
// measured in the same run. The policies are namespace-wide ALLOWs for other
// principals, with the one that admits the client last, so every open walks them all.
import * as net from "node:net";
import { loopbackAddress } from "../testing/loopback.ts";
import { startMesh, workload } from "../testing/mesh.ts";
import { socksConnect } from "../testing/socks.ts";
import { percentile, ratio } from "./_measure.ts";
import { authorize } from "../ztunnel/rbac.ts";
import { parseLocalConfig } from "../ztunnel/local_config.ts";
import { spiffeId } from "../identity/mod.ts";
import { stringify } from "yaml";

const OPENS = 400;
const COUNTS = [0, 100, 1000];

function policies(n: number) {
  const allowOthers = Array.from({ length: Math.max(0, n - 1) }, (_, i) => ({
    name: `allow-${i}`,
    namespace: "default",
    scope: "Namespace",
    action: "Allow",
    rules: [[[{ principals: [{ Exact: `cluster.local/ns/default/sa/other-${i}` }], destinationPorts: [9000 + (i % 7)] }]]],
  }));
  const allowClient = { name: "allow-client", namespace: "default", scope: "Namespace", action: "Allow", rules: [[[{ principals: [{ Exact: "cluster.local/ns/default/sa/client" }] }]]] };
  return n === 0 ? [] : [...allowOthers, allowClient];
}

/** Runs the benchmark and returns its section of bench/RESULTS.md. */
export async function bench(): Promise<string> {
  const ip = { client: loopbackAddress(), server: loopbackAddress() };
  const echo = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(9000, ip.server, () => r()));
  const config = (n: number) => ({
    workloads: [workload({ name: "client", ip: ip.client, node: "node-a" }), workload({ name: "server", ip: ip.server, node: "node-b" })],
    policies: policies(n),
  });
  const mesh = await startMesh(["node-a", "node-b"], config(0), ["--log-level", "warn"]);
  const b = mesh.nodes["node-b"]!;
  const open = async () => {
    const t0 = performance.now();
    const r = await socksConnect({ address: ip.client, port: 15080 }, ip.server, 9000);
    if (!r.ok) throw new Error(`refused: ${r.reply}`);
    await new Promise<void>((resolve) => {
      r.socket.once("data", () => resolve());
      r.socket.write("x");
    });
    const us = (performance.now() - t0) * 1000;
    r.socket.destroy();
    return us;
  };
  const results = new Map<number, number[]>();
  try {
    // Interleave rounds so background load falls on every count alike.
    for (let round = 0; round < 3; round++) {
      for (const n of COUNTS) {
        mesh.writeConfig(config(n));
        const deadline = Date.now() + 20_000;
        while (((await (await b.admin("/config_dump")).json()).policies as unknown[]).length !== policies(n).length) {
          if (Date.now() > deadline) throw new Error(`node-b never loaded ${n} policies`);
          await new Promise((r) => setTimeout(r, 50));
        }
        for (let i = 0; i < 20; i++) await open(); // warm-up
        const samples = results.get(n) ?? [];
        for (let i = 0; i < OPENS / 3; i++) samples.push(await open());
        results.set(n, samples);
      }
    }
  } finally {
    await mesh.stop();
    echo.close();
  }
  // The decision alone, in process: the same policies through the same parser ztunnel uses.
  const decisionUs = (n: number) => {
    const snapshot = parseLocalConfig(stringify({ policies: policies(n) }), "bench", { trustDomain: "cluster.local" });
    const facts = { sourceIdentity: spiffeId("cluster.local", "default", "client"), sourceAddress: ip.client, destinationAddress: ip.server, destinationPort: 9000 };
    for (let i = 0; i < 500; i++) authorize(snapshot.policies, facts);
    const t0 = performance.now();
    for (let i = 0; i < 5000; i++) authorize(snapshot.policies, facts);
    return ((performance.now() - t0) / 5000) * 1000;
  };
  const decisions = COUNTS.map((n) => `| ${n} policies | ${decisionUs(n).toFixed(2)} µs |`);
  const p50 = (n: number) => percentile(results.get(n)!, 50);
  const p99 = (n: number) => percentile(results.get(n)!, 99);
  const rows = COUNTS.map((n) => {
    const r50 = p50(n) / p50(0);
    const target = n === 1000 ? "≤ 1.2×" : "";
    const met = n === 1000 ? (r50 <= 1.2 ? "met" : "missed") : "";
    return `| ${n} policies | ${p50(n).toFixed(0)} µs | ${p99(n).toFixed(0)} µs | ${ratio(p50(n), p50(0))} | ${ratio(p99(n), p99(0))} | ${target} | ${met} |`;
  });
  return [
    "## L4 policy cost (`bench/policy.ts`)",
    "",
    `Time to open a connection (SOCKS5 handshake, HBONE CONNECT on a warm pool, authorization at node-b, first byte echoed), ${OPENS} opens per count in 3 interleaved rounds.`,
    "The policies are namespace-wide ALLOWs for other principals, with the one admitting the client last, so each open evaluates them all. Ratios are to 0 policies in the same run.",
    "",
    "| policies | open p50 | open p99 | p50 ratio | p99 ratio | target | met? |",
    "|---|---|---|---|---|---|---|",
    ...rows,
    "",
    "The authorization decision alone (in process, 5,000 decisions after warm-up): policies that name exact principals are indexed by",
    "principal, so a decision evaluates only the policies that could match the caller.",
    "",
    "| policies | one decision |",
    "|---|---|",
    ...decisions,
    "",
  ].join("\n");
}

if (import.meta.main) console.log(await bench());
