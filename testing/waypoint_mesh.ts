// The mesh the waypoint end-to-end suites run against, all real processes: a
// waypoint (from a local file, sharing a dev CA with the ztunnel), one ztunnel
// on node-b in front of real HTTP echo backends, and HBONE forwarders on a
// client workload's address standing in for the source ztunnel's hand-off.
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { CertificateAuthority, spiffeId } from "../identity/mod.ts";
import type { Service, Workload } from "../xds/resources.ts";
import type { PortProtocol, ServiceRoutes } from "../xds/waypoint_resources.ts";
import { type HboneForwarder, startHboneForwarder } from "./hbone_forwarder.ts";
import { startFakeWaypointControlplane } from "./fake_waypoint_controlplane.ts";
import { startGrpcEcho } from "./grpc_echo.ts";
import { type HttpEchoServer, startHttpEcho } from "./http_echo.ts";
import { runtime } from "./harness.ts";
import { loopbackAddress } from "./loopback.ts";
import { service as ztunnelService, startMesh, type TestMesh, workload as ztunnelWorkload } from "./mesh.ts";
import { startProcess, type TestProcess } from "./processes.ts";
import { testService, testWorkload } from "./resources.ts";
import { repoRoot, runtimeCommand } from "./runtime_command.ts";

/** One Service behind the waypoint. */
export interface MeshService {
  readonly name: string;
  readonly vip: string;
  /** Service port; backends listen on 8080. Default 80. */
  readonly port?: number;
  readonly protocol?: PortProtocol;
  /** Names of the echo backends behind it (each started once, on its own address). */
  readonly backends: readonly string[];
}

/** A response as the tests read it. */
export interface MeshResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** The echo backend's JSON, when the body is one. */
  readonly echo?: { backend: string; method: string; path: string; host: string; headers: Record<string, string>; bodyBytes: number };
}

export const WAYPOINT_GATEWAY = "default/waypoint";
const BACKEND_PORT = 8080;

/** Starts backends, the ztunnel and the waypoint; resolves once the waypoint is ready. */
export async function startWaypointMesh(
  services: readonly MeshService[],
  routes: (keys: Record<string, string>) => ServiceRoutes[] = () => [],
  /** `extra`: more of the local file (l7Policies, extAuthzProviders), by service key. */
  options: { grpcBackends?: readonly string[]; xds?: boolean; waypointArgs?: readonly string[]; runtimeFlags?: readonly string[]; extra?: (keys: Record<string, string>) => Record<string, unknown> } = {},
) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-waypoint-"));
  const keys = Object.fromEntries(services.map((s) => [s.name, `default/${s.name}.default.svc.cluster.local`]));
  const backendNames = [...new Set(services.flatMap((s) => s.backends))];
  const backends: Record<string, HttpEchoServer> = {};
  const grpcBackends: Record<string, { address: string; close(): Promise<void> }> = {};
  for (const name of backendNames) {
    if (options.grpcBackends?.includes(name)) grpcBackends[name] = await startGrpcEcho(name, loopbackAddress(), BACKEND_PORT);
    else backends[name] = await startHttpEcho(name, loopbackAddress(), BACKEND_PORT);
  }
  const addressOf = (b: string) => (backends[b] ?? grpcBackends[b])!.address;
  const servicesOf = (b: string) => services.filter((s) => s.backends.includes(b));
  const ztunnelConfig = {
    workloads: backendNames.map((b) =>
      ztunnelWorkload({ name: b, ip: addressOf(b), node: "node-b", services: Object.fromEntries(servicesOf(b).map((s) => [keys[s.name]!, { [s.port ?? 80]: BACKEND_PORT }])) })
    ),
    services: services.map((s) => ztunnelService({ name: s.name, vip: s.vip, ports: { [s.port ?? 80]: BACKEND_PORT } })),
  };
  const mesh: TestMesh = await startMesh(["node-b"], ztunnelConfig);
  const clientAddress = loopbackAddress();
  const snapshot = (r: ServiceRoutes[]) => ({
    ...options.extra?.(keys),
    gateway: WAYPOINT_GATEWAY,
    services: services.map((s): Service => testService(s.name, "default", { vips: [{ network: "", address: s.vip }], ports: { [s.port ?? 80]: BACKEND_PORT } })),
    workloads: [
      ...backendNames.map((b): Workload =>
        testWorkload(b, "default", {
          addresses: [addressOf(b)],
          node: "node-b",
          canonicalName: b.replace(/-v\d+$/, ""),
          canonicalRevision: /-(v\d+)$/.exec(b)?.[1] ?? "latest",
          services: Object.fromEntries(servicesOf(b).map((s) => [keys[s.name]!, { [s.port ?? 80]: BACKEND_PORT }])),
        })
      ),
      testWorkload("sleep", "default", { addresses: [clientAddress], node: "node-a" }),
    ],
    routes: r.map((x) => ({ ...x, protocols: { ...Object.fromEntries(services.filter((s) => keys[s.name] === x.service && s.protocol).map((s) => [s.port ?? 80, s.protocol])), ...x.protocols } })),
  });
  const file = path.join(dir, "waypoint.yaml");
  const writeRoutes = (r: ServiceRoutes[]) => {
    // Services with a declared protocol but no routes still need their protocol known.
    const withProtocols = [...r];
    for (const s of services) {
      if (s.protocol && !withProtocols.some((x) => x.service === keys[s.name])) {
        withProtocols.push({ service: keys[s.name]!, waypoint: WAYPOINT_GATEWAY, protocols: { [s.port ?? 80]: s.protocol }, routes: [], rules: [] });
      }
    }
    const next = snapshot(withProtocols);
    if (controlplane) return controlplane.update(next);
    fs.writeFileSync(`${file}.tmp`, stringify(next));
    fs.renameSync(`${file}.tmp`, file);
  };
  // xDS mode: the waypoint is told only where its controlplane is and which Gateway it serves.
  const controlplane = options.xds ? await startFakeWaypointControlplane(loopbackAddress(), mesh.caDir, snapshot(routes(keys))) : undefined;
  writeRoutes(routes(keys));
  const address = loopbackAddress();
  const source = controlplane ? ["--controlplane", controlplane.url, "--gateway", WAYPOINT_GATEWAY] : ["--local-config", file, "--ca-dir", mesh.caDir];
  const [cmd, args] = runtimeCommand("waypoint/main.ts", ["--address", address, ...source, ...(options.waypointArgs ?? [])]);
  const proc: TestProcess = startProcess(cmd, [...(options.runtimeFlags ?? []), ...args]);
  await waitWaypointReady(address, proc);
  const ca = await CertificateAuthority.loadOrCreate({ dir: mesh.caDir, trustDomain: "cluster.local" });
  const clientCert = await ca.issue(spiffeId("cluster.local", "default", "sleep"), 3600);
  const forwarders = new Map<string, Promise<HboneForwarder>>();
  const helpers: TestProcess[] = [];
  /** A TCP port on the client's address whose connections reach `service` through the waypoint. */
  const forwarder = (serviceName: string, vip?: string, port?: number) => {
    const s = services.find((x) => x.name === serviceName);
    const key = `${vip ?? s!.vip}:${port ?? s?.port ?? 80}`;
    let f = forwarders.get(key);
    if (!f) {
      const target = { address: vip ?? s!.vip, port: port ?? s?.port ?? 80 };
      const waypoint = { address, port: 15008 };
      f = runtime === "deno"
        ? startForwarderProcess({ address: clientAddress, caDir: mesh.caDir, source: "default/sleep", waypoint, waypointIdentity: "default/waypoint", target }, helpers)
        : startHboneForwarder({ address: clientAddress, source: clientCert, waypoint, waypointIdentity: spiffeId("cluster.local", "default", "waypoint"), target });
      forwarders.set(key, f);
    }
    return f;
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  /** One HTTP/1.1 request to a Service through the waypoint. */
  async function request(serviceName: string, o: { method?: string; path?: string; host?: string; headers?: Record<string, string>; body?: string; keepAlive?: boolean } = {}): Promise<MeshResponse> {
    const f = await forwarder(serviceName);
    return new Promise((resolve, reject) => {
      const req = http.request({
        host: f.address,
        port: f.port,
        method: o.method ?? "GET",
        path: o.path ?? "/",
        headers: { host: o.host ?? `${serviceName}.default.svc.cluster.local`, ...o.headers },
        // Deno's node:http client agent resets kept-alive sockets under this load ("socket hang up"),
        // so the Deno suite opens a connection per request; the Bun suite keeps them alive.
        agent: o.keepAlive && runtime !== "deno" ? agent : false,
      }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (body += d));
        res.on("end", () => {
          let echo;
          try {
            echo = res.headers["content-type"]?.includes("json") ? JSON.parse(body) : undefined;
          } catch { /* not JSON */ }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, echo });
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      const timer = setTimeout(() => req.destroy(new Error(`${o.path}: no response within 10 s`)), 10_000);
      req.once("close", () => clearTimeout(timer));
      req.end(o.body);
    });
  }
  const stop = async () => {
    agent.destroy();
    for (const f of forwarders.values()) await f.then((x) => x.close(), () => {});
    for (const h of helpers) h.kill("SIGKILL");
    proc.kill("SIGKILL");
    await proc.exited;
    await mesh.stop();
    await controlplane?.close();
    for (const b of [...Object.values(backends), ...Object.values(grpcBackends)]) await b.close();
  };
  return {
    dir,
    keys,
    backends,
    mesh,
    controlplane,
    clientAddress,
    waypoint: {
      address,
      proc,
      metrics: () => fetch(`http://${address}:15020/metrics`).then((r) => r.text()),
      admin: (p: string, init?: RequestInit) => fetch(`http://${address}:15000${p}`, init),
    },
    writeRoutes,
    forwarder,
    request,
    stop,
  };
}

/** The mesh {@link startWaypointMesh} returns. */
export type WaypointMesh = Awaited<ReturnType<typeof startWaypointMesh>>;

/** The forwarder in a Bun process (see hbone_forwarder_main.ts for why). */
async function startForwarderProcess(options: unknown, helpers: TestProcess[]): Promise<HboneForwarder> {
  const bun = path.join(repoRoot, "node_modules", ".bin", "bun");
  const proc = startProcess(bun, [path.join(repoRoot, "testing", "hbone_forwarder_main.ts"), JSON.stringify(options)]);
  helpers.push(proc);
  const line = await proc.waitForLine(/^forwarding \d+/);
  const o = options as { address: string };
  return { address: o.address, port: Number(line.split(" ")[1]), tunnels: () => 0, close: async () => proc.kill("SIGKILL") };
}

/** Polls the waypoint's readiness until 200, or fails with its output. */
export async function waitWaypointReady(address: string, proc: TestProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) break;
    try {
      const r = await fetch(`http://${address}:15021/healthz/ready`);
      if (r.ok) return;
      last = await r.text();
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`waypoint not ready (${last}); output:\n${proc.lines.slice(-30).join("\n")}`);
}
