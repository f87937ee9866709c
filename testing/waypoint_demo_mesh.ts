// The observability tests' mesh, every piece a real process: a controlplane,
// two ztunnels joined with join tokens, and the waypoint `demo/wp` (on node-a)
// that serves the `hello` service; sleep on node-a, hello-v1 and hello-v2 on
// node-b (small HTTP servers in the test's process, answering "hello").
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import { startTestControlplane, startXdsMesh } from "./controlplane.ts";
import { loopbackAddress } from "./loopback.ts";
import { startProcess } from "./processes.ts";
import { runtimeCommand } from "./runtime_command.ts";
import { podYaml, waypointYaml } from "./kube_yaml.ts";

/** The `hello` service's host name. */
export const DEMO_HOST = "hello.demo.svc.cluster.local";

const pod = (name: string, node: string, address: string, labels: string, sa: string) =>
  `---\n${podYaml({ name, node, ip: address, serviceAccount: sa, labels: Object.fromEntries(labels.split(", ").map((l) => l.split(": ") as [string, string])) })}`;

/**
 * Starts the mesh; `controlplaneArgs` may use `ip.cp`, the controlplane's own second address
 * (for --metrics-listen, --dashboard-listen).
 */
export async function startWaypointDemoMesh(controlplaneArgs: (cpAddress: string) => string[] = () => []) {
  const ip = { sleep: loopbackAddress(), v1: loopbackAddress(), v2: loopbackAddress(), wp: loopbackAddress(), cp: loopbackAddress() };
  const meshYaml = `
apiVersion: v1
kind: Namespace
metadata: {name: demo, labels: {istio.io/dataplane-mode: ambient}}
---
${waypointYaml({ name: "wp", address: ip.wp, node: "node-a" })}${pod("sleep", "node-a", ip.sleep, "app: sleep", "sleep")}${pod("hello-v1", "node-b", ip.v1, "app: hello, version: v1", "hello")}${
    pod("hello-v2", "node-b", ip.v2, "app: hello, version: v2", "hello")}---
apiVersion: v1
kind: Service
metadata: {name: hello, namespace: demo, labels: {istio.io/use-waypoint: wp}}
spec: {selector: {app: hello}, ports: [{name: http, port: 80, targetPort: 8080}]}
`;
  const servers = await Promise.all([ip.v1, ip.v2].map((address) => {
    const s = http.createServer((_req, res) => res.end("hello"));
    return new Promise<http.Server>((r) => s.listen(8080, address, () => r(s)));
  }));
  const cp = await startTestControlplane(controlplaneArgs(ip.cp));
  assert.equal((await cp.apply(meshYaml)).status, 200);
  const mesh = await startXdsMesh(cp, ["node-a", "node-b"]);
  const adminToken = fs.readFileSync(`${cp.stateDir}/admin-token`, "utf8").trim();
  const { token } = await cp.admin.json<{ token: string }>("POST", "/api/v1/waypoints/demo/wp/token", {}, { authorization: `Bearer ${adminToken}` });
  const [cmd, args] = runtimeCommand("waypoint/main.ts", ["--gateway", "demo/wp", "--address", ip.wp, "--controlplane", cp.url, "--controlplane-ca", cp.rootCertFile, "--token", token]);
  const waypoint = startProcess(cmd, args);
  await waypoint.waitForLine(/waypoint\tready/, 30_000);
  return {
    ip, cp, mesh, waypoint,
    async stop(): Promise<void> {
      waypoint.kill("SIGKILL");
      await waypoint.exited;
      await mesh.stop();
      await cp.kill();
      for (const s of servers) s.close();
    },
  };
}
