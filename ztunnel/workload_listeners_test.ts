// One bad workload never stalls a node: a ztunnel (in this process, real
// sockets on loopback) serves three workloads whose certificates come from a
// source that refuses one identity, never answers for another, and issues the
// third from a real CA. The refusing and the silent CA are fakes: no real CA
// misbehaves on request. The good workload's listeners come up, the node turns
// ready, and a workload added later is served while the silent CSR still hangs.
import { afterAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { CertificateAuthority, type SpiffeId } from "../identity/mod.ts";
import { Logger } from "../telemetry/mod.ts";
import { loopbackAddress } from "../testing/loopback.ts";
import { workload } from "../testing/mesh.ts";
import { socksConnect } from "../testing/socks.ts";
import { registerSocksCredentials } from "../testing/socks_credentials.ts";
import { startEchoServer } from "../testing/tcp.ts";
import { startZtunnel, type Ztunnel } from "./app.ts";
import { loadZtunnelConfig } from "./config.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-bad-workload-"));
const ip = { node: loopbackAddress(), good: loopbackAddress(), refused: loopbackAddress(), silent: loopbackAddress(), later: loopbackAddress() };
const configFile = path.join(dir, "mesh.yaml");
const write = (names: string[]) => {
  fs.writeFileSync(`${configFile}.tmp`, stringify({ workloads: names.map((n) => workload({ name: n, ip: ip[n as keyof typeof ip], node: "node-a" })) }));
  fs.renameSync(`${configFile}.tmp`, configFile);
};
write(["good", "refused", "silent"]);

const ca = await CertificateAuthority.loadOrCreate({ dir: path.join(dir, "ca"), trustDomain: "cluster.local" });
const asked: string[] = [];
const source = {
  issue: (id: SpiffeId) => {
    asked.push(id.serviceAccount);
    if (id.serviceAccount === "refused") return Promise.reject(new Error("CSR denied: the CA refuses this identity"));
    if (id.serviceAccount === "silent") return new Promise<never>(() => {});
    return ca.issue(id, 3600);
  },
};
const config = loadZtunnelConfig([
  "--node", "node-a", "--address", ip.node, "--local-config", configFile, "--ca-dir", path.join(dir, "ca"),
  "--socks-credentials-dir", path.join(dir, "socks"), "--connect-timeout-ms", "300",
  "--admin-port", "0", "--metrics-port", "0", "--readiness-port", "0", "--log-level", "error",
], {});
registerSocksCredentials(path.join(dir, "socks"));
const echo = await startEchoServer(ip.good, 9000);
let ztunnel: Ztunnel;
afterAll(async () => {
  await ztunnel?.drain();
  await echo.close();
});

async function through(from: string): Promise<boolean> {
  const r = await socksConnect({ address: from, port: 15080 }, ip.good, 9000, 2_000);
  if (r.ok) r.socket.destroy();
  return r.ok;
}

test("a refused and an unanswered CSR hold back only their own workloads: the good one serves and the node is ready", async () => {
  ztunnel = await startZtunnel(config, { certificateSource: source, log: new Logger({ level: "error", write: () => {} }) });
  const readyIn = await Promise.race([ztunnel.ready.then(() => "ready"), new Promise((r) => setTimeout(() => r("timed out"), 5_000))]);
  expect(readyIn).toBe("ready");
  expect(await through(ip.good)).toBe(true);
  expect(asked).toEqual(expect.arrayContaining(["good", "refused", "silent"]));
  // Neither bad workload got listeners (nobody can connect to their SOCKS5).
  expect(await through(ip.refused)).toBe(false);
  expect(await through(ip.silent)).toBe(false);
}, 15_000);

test("a workload added while a CSR hangs is served without waiting for it", async () => {
  write(["good", "refused", "silent", "later"]);
  const deadline = Date.now() + 5_000;
  while (!(await through(ip.later)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(await through(ip.later)).toBe(true);
  expect(ztunnel.state().findWorkload(ip.later)?.name).toBe("later");
  // The hang is still there: the silent workload has no listeners yet.
  expect(await through(ip.silent)).toBe(false);
}, 15_000);
