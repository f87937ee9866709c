// The mesh the ztunnel bad-input suites run against: two real ztunnel processes
// (node-a with a sleep client workload, node-b with an echo workload behind a
// service), the good config they start from, and the checks both suites make
// that the last good state keeps carrying traffic.
import * as assert from "node:assert/strict";
import { service, workload } from "./mesh.ts";
import { loopbackAddress } from "./loopback.ts";
import { startMesh, type TestNode } from "./mesh.ts";
import { socksConnect } from "./socks.ts";
import { exchange, startEchoServer } from "./tcp.ts";
import type { TestProcess } from "./processes.ts";

export const ECHO_HOST = "echo.default.svc.cluster.local";
export const ECHO_VIP = "10.96.0.10";

/**
 * The good config. The policy denies only sources that never occur here
 * (TEST-NET-1, a principal nobody has), so it is live in every check and blocks nothing.
 */
export function echoMeshConfig(ip: { sleep: string; echo: string }) {
  return {
    workloads: [
      workload({ name: "sleep", ip: ip.sleep, node: "node-a" }),
      workload({ name: "echo", ip: ip.echo, node: "node-b", services: { [`default/${ECHO_HOST}`]: { 80: 9000 } } }),
    ],
    services: [service({ name: "echo", vip: ECHO_VIP, ports: { 80: 9000 } })],
    policies: [{
      name: "deny-nothing",
      namespace: "default",
      scope: "Namespace",
      action: "Deny",
      rules: [
        [[{ sourceIps: ["192.0.2.0/24"] as unknown[] }]],
        [[{ principals: [{ Exact: "cluster.local/ns/default/sa/nobody" }] as unknown[] }]],
      ],
    }],
  };
}

/** Rejects if `p` has not settled within `ms`. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts the echo server and both ztunnels on the good config. */
export async function startEchoMesh() {
  const ip = { sleep: loopbackAddress(), echo: loopbackAddress() };
  const good = echoMeshConfig(ip);
  const echo = await startEchoServer(ip.echo, 9000);
  const mesh = await startMesh(["node-a", "node-b"], good);
  const a = mesh.nodes["node-a"]!;
  const b = mesh.nodes["node-b"]!;
  const sleepSocks = { address: ip.sleep, port: 15080 };

  // Exit as observed by the 'exit' event: Deno's child_process sets signalCode as
  // soon as kill() is called, even when the child handles the signal and lives on.
  const exited = new Set<string>();
  for (const node of [a, b]) void node.proc.exited.then(() => exited.add(node.name));
  const alive = (node: TestNode) => !exited.has(node.name);

  /** SOCKS CONNECT from the node-a client workload, then 64 KiB through and back. */
  async function assertEchoes(label: string, host = ECHO_HOST, port = 80): Promise<void> {
    const r = await socksConnect(sleepSocks, host, port, 5_000);
    assert.ok(r.ok, `${label}: SOCKS CONNECT to ${host}:${port} refused (${!r.ok && r.reply})`);
    const res = await within(exchange(r.socket, 64 * 1024), 5_000, `${label}: echo through ${host}:${port}`);
    assert.equal(res.received, 64 * 1024, `${label}: echoed byte count`);
    assert.equal(res.receivedSha256, res.sentSha256, `${label}: echoed bytes differ`);
  }

  /** Waits for a line matching `re` among those the process printed after index `from`. */
  async function waitForNewLine(node: TestNode, from: number, re: RegExp, timeoutMs = 5_000): Promise<string> {
    const proc: TestProcess = node.proc;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = proc.lines.slice(from).find((l) => re.test(l));
      if (hit) return hit;
      if (!alive(node)) throw new Error(`${node.name} exited (${proc.child.exitCode ?? proc.child.signalCode}) waiting for ${re}; output:\n${proc.lines.slice(from).join("\n")}`);
      if (Date.now() > deadline) throw new Error(`${node.name}: no line matching ${re} within ${timeoutMs} ms; new output:\n${proc.lines.slice(from).join("\n")}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  const stop = async () => {
    await mesh.stop();
    await echo.close();
  };
  return { ip, good, mesh, a, b, sleepSocks, alive, assertEchoes, waitForNewLine, stop };
}
