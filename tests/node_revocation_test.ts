// Revocation as the rest of the mesh sees it: a real controlplane and two real
// ztunnels (node-a, node-b) that joined it with tokens. The test also holds
// node-b's credentials itself, as whoever stole them would: a join of its own as
// node-b (a joined node may be given a new token) and, with that node
// certificate, the workload certificate of a pod on node-b. Node-b is then
// revoked through the admin API, and the test checks what every other
// part does with the revoked serials: node-a's ztunnel closes the tunnels
// already open with them (inbound from the stolen workload certificate,
// outbound to node-b's ztunnel) within 1 s, counted and logged; refuses new ones
// (401 inbound, SOCKS5 "not allowed" outbound) with the reason in its log and
// metrics; and the controlplane refuses node-b's node certificate. Nothing is faked.
import * as assert from "node:assert/strict";
import type { Duplex } from "node:stream";
import * as fs from "node:fs";
import * as path from "node:path";
import { ConnectionPool, HboneStatusError, type HboneTunnel } from "../hbone/mod.ts";
import { createCertificateRequest, createUriCertificateRequest, joinPem, nodeUri, spiffeId, summarizeLeaf, type WorkloadCertificate } from "../identity/mod.ts";
import { Http2Client } from "../runtime/mod.ts";
import {
  afterAll, loopbackAddress, repoRoot, runCommand, runtimeCommand, socksConnect, startEchoServer, startTestControlplane, startXdsMesh, test,
} from "../testing/mod.ts";

const ip = { sleep: loopbackAddress(), echoA: loopbackAddress(), echoB: loopbackAddress(), stolen: loopbackAddress() };
const echoes = await Promise.all([startEchoServer(ip.echoA, 9000), startEchoServer(ip.echoB, 9000)]);
const pod = (name: string, node: string, podIP: string) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: demo, labels: {app: ${name}}}
spec: {nodeName: ${node}, serviceAccountName: ${name}, containers: [{name: c, image: c}]}
status: {phase: Running, podIP: ${podIP}}`;
const mesh = [
  "apiVersion: v1\nkind: Namespace\nmetadata: {name: demo, labels: {istio.io/dataplane-mode: ambient}}",
  pod("sleep", "node-a", ip.sleep),
  pod("echo-a", "node-a", ip.echoA),
  pod("echo-b", "node-b", ip.echoB),
  pod("stolen", "node-b", ip.stolen),
].join("\n---\n");

const cp = await startTestControlplane();
const caPem = fs.readFileSync(cp.rootCertFile, "utf8");
const adminToken = fs.readFileSync(path.join(cp.stateDir, "admin-token"), "utf8").trim();
const ambit = (args: string[]) => {
  const [cmd, argv] = runtimeCommand("cli/main.ts", [...args, "--controlplane", cp.url, "--token-file", path.join(cp.stateDir, "admin-token"), "--controlplane-ca", cp.rootCertFile]);
  return runCommand(cmd, argv, { cwd: repoRoot, env: { NO_COLOR: "1" } });
};
assert.equal((await cp.apply(mesh)).status, 200);

// The thief's copy of node-b: its own join, and a workload certificate of a pod on node-b.
const nodeKey = await createUriCertificateRequest(nodeUri("cluster.local", "node-b"));
const joinClient = new Http2Client(cp.url, { ca: caPem, checkServerIdentity: () => undefined });
const joined = await joinClient.json<{ certChain: string[] }>("POST", "/nodes/v1/join", { csr: nodeKey.csrPem }, { authorization: `Bearer ${await cp.token("node-b")}` });
joinClient.close();
const asNodeB = new Http2Client(cp.url, { ca: caPem, cert: joinPem(joined.certChain), key: nodeKey.key.privateKeyPem, checkServerIdentity: () => undefined });
const stolenRequest = await createCertificateRequest(spiffeId("cluster.local", "demo", "stolen"));
const issued = await asNodeB.json<{ certChain: string[] }>("POST", "/ca/v1/certificates", { csr: stolenRequest.csrPem });
const stolenLeaf = summarizeLeaf(issued.certChain[0]!);
const stolen: WorkloadCertificate = {
  identity: stolenRequest.identity,
  chainPem: issued.certChain,
  privateKeyPem: stolenRequest.key.privateKeyPem,
  trustBundlePem: [caPem],
  serialNumber: stolenLeaf.serialNumber,
  notBefore: stolenLeaf.notBefore,
  notAfter: stolenLeaf.notAfter,
};

const xds = await startXdsMesh(cp, ["node-a", "node-b"]);
const nodeA = xds.nodes["node-a"]!;
const pool = new ConnectionPool();
afterAll(async () => {
  pool.close();
  asNodeB.close();
  await xds.stop();
  await cp.kill();
  for (const e of echoes) await e.close();
});

/** A tunnel with the stolen workload certificate to echo-a on node-a. */
const tunnelToEchoA = () =>
  pool.connect({
    source: stolen,
    hboneAddress: { address: ip.echoA, port: 15008 },
    expectedIdentities: [spiffeId("cluster.local", "demo", "echo-a")],
    target: { address: ip.echoA, port: 9000 },
    localAddress: ip.stolen,
  });

/** Writes `text` and waits for the echo server to send it back. */
function echoed(duplex: Duplex, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = "";
    const onData = (c: Buffer) => {
      got += c.toString();
      if (got.includes(text)) {
        duplex.off("data", onData);
        resolve();
      }
    };
    duplex.on("data", onData);
    duplex.once("error", reject);
    duplex.write(text);
  });
}

/** When `duplex` closes (ms since the epoch). */
const closedAt = (duplex: Duplex) => new Promise<number>((resolve) => duplex.once("close", () => resolve(Date.now())));

const counter = (metrics: string, name: string, labels: string) => Number(new RegExp(`^${name}\\{${labels}\\} (\\d+)$`, "m").exec(metrics)?.[1] ?? 0);

test("revoking node-b closes, within 1 s, the tunnels open with its certificates at node-a (inbound and outbound), counted and logged", async () => {
  const inbound: HboneTunnel = await tunnelToEchoA();
  await echoed(inbound.stream, "before-inbound");
  const socks = await socksConnect({ address: ip.sleep, port: 15080 }, ip.echoB, 9000);
  assert.ok(socks.ok, `sleep → echo-b through the mesh: ${JSON.stringify(socks)}`);
  await echoed(socks.socket, "before-outbound");
  const inboundClosed = closedAt(inbound.stream);
  const outboundClosed = closedAt(socks.socket);
  socks.socket.on("error", () => {});
  inbound.stream.on("error", () => {});

  // Revoked through the admin API, which `ambit node token revoke` calls (tests/cli_inspect_test.ts runs the
  // verb): the request's send time bounds the revocation's own, where a CLI process's start-up would blur it.
  const sentAt = Date.now();
  const revoked = await cp.admin.json<{ state: string; closedStreams: number }>("DELETE", "/api/v1/nodes/node-b/token", undefined, { authorization: `Bearer ${adminToken}` });
  assert.equal(revoked.state, "revoked");
  assert.ok(revoked.closedStreams >= 1, `node-b's ztunnel had an xDS stream to close: ${JSON.stringify(revoked)}`);
  for (const [what, closed] of [["inbound", inboundClosed], ["outbound", outboundClosed]] as const) {
    const after = (await closed) - sentAt;
    assert.ok(after < 1000, `the ${what} tunnel closed ${after} ms after the revocation`);
  }
  const line = await nodeA.proc.waitForLine(/closed open connections of a revoked certificate/, 5000);
  assert.match(line, /reason=revoked-certificate/);
  assert.match(line, /inbound=1\b/);
  assert.match(line, /outbound=1\b/);
  assert.match(line, new RegExp(`serials=\\S*${stolenLeaf.serialNumber.toLowerCase().replace(/^0+/, "")}`));
  const metrics = await nodeA.metrics();
  assert.equal(counter(metrics, "ambit_revoked_connections_closed_total", 'direction="inbound"'), 1);
  assert.equal(counter(metrics, "ambit_revoked_connections_closed_total", 'direction="outbound"'), 1);
});

test("node-a refuses new tunnels from node-b's workload certificate with 401, and to node-b's ztunnel, naming the reason", async () => {
  const refused = await tunnelToEchoA().then(() => undefined, (e: unknown) => e);
  assert.ok(refused instanceof HboneStatusError, `expected a refusal, got ${refused}`);
  assert.equal(refused.status, 401);
  const inboundLine = await nodeA.proc.waitForLine(/connection refused.*reason=revoked-certificate/, 5000);
  assert.match(inboundLine, new RegExp(`src\\.identity=spiffe://cluster\\.local/ns/demo/sa/stolen`));

  const socks = await socksConnect({ address: ip.sleep, port: 15080 }, ip.echoB, 9000);
  assert.equal(socks.ok ? "connected" : socks.reply, 0x02, "SOCKS5 reply 2: not allowed by ruleset");
  const outboundLine = await nodeA.proc.waitForLine(/src\.workload=demo\/sleep.*reason=revoked-certificate|reason=revoked-certificate.*src\.workload=demo\/sleep/, 5000);
  assert.match(outboundLine, /which is revoked/);
  const metrics = await nodeA.metrics();
  assert.equal(counter(metrics, "ambit_connections_refused_total", 'direction="inbound",reason="revoked-certificate"'), 1);
  assert.equal(counter(metrics, "ambit_connections_refused_total", 'direction="outbound",reason="revoked-certificate"'), 1);
  // node-a's own workloads still reach each other: only node-b's certificates are refused.
  const local = await socksConnect({ address: ip.sleep, port: 15080 }, ip.echoA, 9000);
  assert.ok(local.ok);
  await echoed(local.socket, "still-serving");
  local.socket.destroy();
});

test("the controlplane refuses node-b's node certificate: no xDS, no renewal, no workload certificates", async () => {
  const stream = await asNodeB.request("POST", "/xds/v1/delta", {
    body: JSON.stringify({ node: { id: "ztunnel~thief", nodeName: "node-b" }, subscriptions: {} }), headers: { "content-type": "application/json" },
  });
  assert.equal(stream.status, 401);
  assert.match(await stream.text(), /node node-b is revoked/);
  await assert.rejects(asNodeB.json("POST", "/nodes/v1/renew", { csr: nodeKey.csrPem }), /401 .*revoked/);
  const again = await createCertificateRequest(spiffeId("cluster.local", "demo", "stolen"));
  await assert.rejects(asNodeB.json("POST", "/ca/v1/certificates", { csr: again.csrPem }), /401/);
  // And a new token, as a user would ask for one, does not bring it back.
  const token = await ambit(["node", "token", "create", "node-b"]);
  assert.equal(token.code, 1, token.stdout);
  assert.match(token.stderr, /node node-b was revoked/);
});
