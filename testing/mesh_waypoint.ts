/**
 * A waypoint process in a mesh a test controlplane runs, and the client side of
 * the tests that drive traffic through it: requests back to back through a
 * workload's SOCKS5 port with curl, each timed.
 *
 * @example
 * ```ts
 * const waypoint = await startMeshWaypoint(cp, "demo/wp", ip.wp);
 * const replies = await curlBatch(ip.sleep, "http://hello.demo.svc.cluster.local/", 100);
 * ```
 * @module
 */
import * as fs from "node:fs";
import type { TestControlplane } from "./controlplane.ts";
import { runCommand, startProcess, type TestProcess } from "./processes.ts";
import { runtimeCommand } from "./runtime_command.ts";
import { socksUrl } from "./socks_credentials.ts";

/** Starts the waypoint of Gateway `gateway` (`ns/name`) on `address`, with a waypoint token from `cp`; resolves once it is ready. */
export async function startMeshWaypoint(cp: TestControlplane, gateway: string, address: string): Promise<TestProcess> {
  const adminToken = fs.readFileSync(`${cp.stateDir}/admin-token`, "utf8").trim();
  const { token } = await cp.admin.json<{ token: string }>("POST", `/api/v1/waypoints/${gateway}/token`, {}, { authorization: `Bearer ${adminToken}` });
  const [cmd, args] = runtimeCommand("waypoint/main.ts", [
    "--gateway", gateway, "--address", address, "--controlplane", cp.url, "--controlplane-ca", cp.rootCertFile, "--token", token, "--drain-seconds", "1",
  ]);
  const waypoint = startProcess(cmd, args);
  await waypoint.waitForLine(/waypoint\tready/, 30_000);
  return waypoint;
}

/** One reply of {@link curlBatch}. */
export interface Reply {
  /** When it started, ms since the epoch (curl reports each transfer's duration; they run back to back). */
  readonly at: number;
  readonly body: string;
  readonly code: number;
}

/**
 * `n` requests to `url` from the SOCKS5 port of the workload at `client`, one after another over one
 * keep-alive connection (curl's URL globbing), as an application would send them.
 */
export async function curlBatch(client: string, url: string, n: number, headers: string[] = []): Promise<Reply[]> {
  const start = Date.now();
  const r = await runCommand("curl", [
    "-sS", "--max-time", "110", "-x", socksUrl(client), ...headers.flatMap((h) => ["-H", h]),
    "-w", "\t%{http_code}\t%{time_total}\n", `${url}?n=[1-${n}]`,
  ], { timeoutMs: 120_000 });
  // A body may hold newlines (an error page): each reply ends with a tab, its status, a tab, its duration.
  let at = start;
  return [...r.stdout.matchAll(/([^\t]*)\t(\d{3})\t([\d.]+)\n/g)].map(([, body = "", code = "0", seconds = "0"]) => {
    const reply = { at, body, code: Number(code) };
    at += Number(seconds) * 1000;
    return reply;
  });
}
