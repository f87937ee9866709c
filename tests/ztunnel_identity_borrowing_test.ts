// Only a workload speaks as itself (docs/security.md), against real ztunnel
// processes on two nodes: the borrowing attempts of issue #12 — SOCKS5 to another
// workload's :15080, a PROXY header naming :15080 on :15006, an HBONE CONNECT
// (from Go's HTTP/2 stack) to each of the ztunnel's own ports — each refused, logged
// and counted; and a process that is not the workload cannot send as it, on one
// loopback (as `ambit dev` runs) and on a node address reachable from another
// host. That other host is a network namespace this test makes, joined by a veth
// pair (needs root and iproute2; skipped, and said so, without them).
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { CertificateAuthority, spiffeId } from "../identity/mod.ts";
import {
  afterAll, exchange, goPeer, loopbackAddress, parsePeerLines, runCommand, service, socksConnect, socksCredentialsAt, socksUrl, startEchoServer, startReplyServer,
  startMesh, test, workload, writeCertFiles,
} from "../testing/mod.ts";
import { ISTIO_ZTUNNEL_PORTS } from "../ztunnel/destination_guard.ts";

const ip = { sleep: loopbackAddress(), echo: loopbackAddress(), other: loopbackAddress() };
/** The "node" address: routable, on a veth whose far end is another host (a network namespace). */
const subnet = `10.${200 + (process.pid % 50)}.${Math.floor(Math.random() * 250)}`;
const host = { ns: `ambit-borrow-${process.pid}`, near: `${subnet}.1`, far: `${subnet}.2`, link: `ambit-b${process.pid % 100000}` };
const nodeMode = await makeOtherHost();

const echoService = { "default/echo.default.svc.cluster.local": { 80: 9000 } };
const config = {
  workloads: [
    workload({ name: "sleep", ip: ip.sleep, node: "node-a" }),
    // Not the caller: a workload on the same node whose identity must not be borrowable either.
    workload({ name: "other", ip: ip.other, node: "node-a" }),
    workload({ name: "echo", ip: ip.echo, node: "node-b", services: echoService }),
    ...(nodeMode ? [workload({ name: "edge", ip: host.near, node: "node-a" })] : []),
  ],
  services: [service({ name: "echo", vip: "10.96.0.10", ports: { 80: 9000 } })],
};
const echo = await startEchoServer(ip.echo, 9000);
const greeter = await startReplyServer(ip.echo, "hello from echo's 9001\n", 9001);
const mesh = await startMesh(["node-a", "node-b"], config);
const a = mesh.nodes["node-a"]!;
const b = mesh.nodes["node-b"]!;
afterAll(async () => {
  await mesh.stop();
  await echo.close();
  await greeter.close();
  if (nodeMode) await runCommand("ip", ["netns", "del", host.ns]);
});

const sleep = { address: ip.sleep, port: 15080 };
const echoSocks = { address: ip.echo, port: 15080 };
const own = socksCredentialsAt(sleep)!;

/** The refusals a ztunnel counted for `reason` in `direction`. */
async function refused(node: typeof a, direction: string, reason: string): Promise<number> {
  const line = (await node.metrics()).split("\n").find((l) => l.startsWith(`ambit_connections_refused_total{direction="${direction}",reason="${reason}"}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

/** Sends `bytes`, then reports what came back before the server closed (or `until` bytes came, or 5 s passed). */
function sendAndRead(to: { address: string; port: number }, bytes: string | Uint8Array, until = Infinity): Promise<{ received: number[]; closed: boolean }> {
  return new Promise((resolve) => {
    const received: number[] = [];
    const socket = net.connect(to.port, to.address, () => socket.write(bytes));
    const timer = setTimeout(() => (socket.destroy(), resolve({ received, closed: false })), 5_000);
    socket.on("data", (d: Buffer) => {
      received.push(...d);
      if (received.length >= until) (clearTimeout(timer), socket.destroy(), resolve({ received, closed: false }));
    });
    socket.on("error", () => {});
    socket.on("close", () => (clearTimeout(timer), resolve({ received, closed: true })));
  });
}

test("the workload itself, with its own credentials, still reaches the echo service (the control for what follows)", async () => {
  const r = await socksConnect(sleep, "echo.default.svc.cluster.local", 80);
  assert.ok(r.ok, `refused: ${!r.ok && r.reply}`);
  const res = await exchange(r.socket, 64 * 1024);
  assert.equal(res.receivedSha256, res.sentSha256);
});

test("SOCKS5 to another workload's :15080 is refused: with the caller's credentials, with none, and as a target through the caller's own", async () => {
  const sleepAuth = { username: own.username, password: own.password };
  // On the other node's workload, and on a neighbour on the caller's own node.
  for (const victim of [echoSocks, { address: ip.other, port: 15080 }]) {
    assert.deepEqual(await socksConnect({ ...victim, auth: sleepAuth }, "echo.default.svc.cluster.local", 80), { ok: false, reply: "auth" }, `${victim.address}: sleep's credentials`);
    assert.deepEqual(await socksConnect({ ...victim, auth: { ...sleepAuth, username: victim.address === ip.echo ? "echo" : "other" } }, ip.echo, 9000), { ok: false, reply: "auth" });
    assert.deepEqual(await socksConnect({ ...victim, auth: "none" }, ip.echo, 9000), { ok: false, reply: 0xff }, `${victim.address}: no credentials`);
  }
  const before = await refused(a, "outbound", "self-call");
  for (const port of ISTIO_ZTUNNEL_PORTS) {
    assert.deepEqual(await socksConnect(sleep, ip.echo, port), { ok: false, reply: 2 }, `through sleep's SOCKS5 to echo:${port}`);
  }
  assert.deepEqual(await socksConnect(sleep, ip.other, 15080), { ok: false, reply: 2 }, "to a same-node workload's SOCKS5");
  assert.equal(await refused(a, "outbound", "self-call"), before + ISTIO_ZTUNNEL_PORTS.length + 1);
  assert.ok(a.proc.lines.some((l) => /connection refused/.test(l) && /reason=self-call/.test(l) && l.includes(`${ip.echo}:15080`)), a.proc.lines.slice(-5).join("\n"));
  // Three refused clients on each victim's node, each named in the log.
  assert.ok((await refused(a, "outbound", "socks-client")) >= 3 && (await refused(b, "outbound", "socks-client")) >= 3);
  assert.ok(b.proc.lines.some((l) => /reason=socks-client/.test(l) && /wrong password for echo/.test(l)), b.proc.lines.slice(-5).join("\n"));
});

test("a PROXY header naming :15080 on :15006 is refused (self-call) before any policy: closed without a byte", async () => {
  const before = await refused(b, "inbound", "self-call");
  // No policy selects echo here: without the guard this would reach echo's SOCKS5, which would answer [5, 0xff].
  for (const port of [15080, 15008, 15006, 15000]) {
    const r = await sendAndRead({ address: ip.echo, port: 15006 }, `PROXY TCP4 ${ip.sleep} ${ip.echo} 40000 ${port}\r\n\x05\x01\x00`);
    assert.deepEqual(r, { received: [], closed: true }, `PROXY header to ${port}`);
  }
  assert.equal(await refused(b, "inbound", "self-call"), before + 4);
  assert.ok(b.proc.lines.some((l) => /connection refused/.test(l) && /reason=self-call/.test(l) && /protocol=plaintext/.test(l)));
  // The same listener still carries an ordinary plaintext connection.
  const ok = await sendAndRead({ address: ip.echo, port: 15006 }, `PROXY TCP4 ${ip.sleep} ${ip.echo} 40000 9000\r\nhello`, 5);
  assert.deepEqual(Buffer.from(ok.received).toString(), "hello");
});

test("an HBONE CONNECT (Go's HTTP/2 client, a mesh certificate) to each of the ztunnel's own ports gets 400; to the app port, 200", async () => {
  const ca = await CertificateAuthority.load({ dir: mesh.caDir, trustDomain: "cluster.local" });
  const files = writeCertFiles(await ca.issue(spiffeId("cluster.local", "default", "sleep"), 600));
  const connect = async (port: number) => {
    const r = await runCommand(goPeer("hbone_client"), [
      "-addr", `${ip.echo}:15008`, "-authority", `${ip.echo}:${port}`, "-cert", files.cert, "-key", files.key,
      "-ca", files.ca, "-expect-san", "spiffe://cluster.local/ns/default/sa/echo", "-bytes", "10", "-timeout", "10",
    ]);
    return parsePeerLines(r.stdout)[0] ?? { error: r.stderr };
  };
  const before = await refused(b, "inbound", "self-call");
  const statuses: Record<number, number | undefined> = {};
  for (const port of ISTIO_ZTUNNEL_PORTS) statuses[port] = (await connect(port)).status;
  assert.deepEqual(statuses, Object.fromEntries(ISTIO_ZTUNNEL_PORTS.map((p) => [p, 400])));
  assert.equal(await refused(b, "inbound", "self-call"), before + ISTIO_ZTUNNEL_PORTS.length);
  assert.equal((await connect(9000)).status, 200, "the app port through the same client");
}, { timeout: 60_000 });

/** curl through a SOCKS5 proxy to echo's port 9001 (which answers one line, hence --http0.9). */
const curlEcho = (proxy: string[], netns?: string) =>
  runCommand(netns ? "ip" : "curl", [...(netns ? ["netns", "exec", netns, "curl"] : []), "-sS", "--http0.9", "--max-time", "5", ...proxy, `http://${ip.echo}:9001/`]);
/** curl's exit code for a proxy that refused the handshake (CURLE_PROXY). */
const CURLE_PROXY = 97;

test("one loopback (as ambit dev): a process without the workload's credentials cannot send as it; curl with them can", async () => {
  const bare = await curlEcho(["--socks5-hostname", `${ip.sleep}:15080`]);
  assert.equal(bare.code, CURLE_PROXY, `curl without credentials: ${bare.stdout}${bare.stderr}`);
  const guessed = await curlEcho(["-x", `socks5h://sleep:guess@${ip.sleep}:15080`]);
  assert.equal(guessed.code, CURLE_PROXY, `curl with a guessed password: ${guessed.stdout}${guessed.stderr}`);
  // The credentials file is the workload's alone to read.
  const file = path.join(mesh.socksDir, "default", "sleep");
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
  const r = await curlEcho(["-x", socksUrl(ip.sleep)]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "hello from echo's 9001\n");
});

test(`node mode: another host cannot use a workload's SOCKS5 on the node address, even with its credentials; a local process needs them${nodeMode ? "" : " [not run: needs root and iproute2]"}`, async () => {
  if (!nodeMode) return;
  const edge = socksCredentialsAt({ address: host.near, port: 15080 });
  assert.ok(edge, "node-a wrote no credentials for the edge workload");
  const before = await refused(a, "outbound", "socks-client");
  const remote = await curlEcho(["-x", edge.url], host.ns);
  assert.equal(remote.code, CURLE_PROXY, `a remote host with edge's credentials: ${remote.stdout}${remote.stderr}`);
  assert.equal(await refused(a, "outbound", "socks-client"), before + 1);
  assert.ok(a.proc.lines.some((l) => /reason=socks-client/.test(l) && l.includes(`${host.far} is not on this host`)));
  const local = await curlEcho(["--socks5-hostname", `${host.near}:15080`]);
  assert.equal(local.code, CURLE_PROXY, `a local process without credentials: ${local.stdout}${local.stderr}`);
  const ok = await socksConnect({ address: host.near, port: 15080 }, ip.echo, 9000);
  assert.ok(ok.ok, `edge with its own credentials was refused: ${!ok.ok && ok.reply}`);
  const res = await exchange(ok.socket, 4096);
  assert.equal(res.receivedSha256, res.sentSha256);
});

/** The other host: a network namespace joined to this one by a veth pair. False when it cannot be made. */
async function makeOtherHost(): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  const steps: string[][] = [
    ["netns", "add", host.ns],
    ["link", "add", host.link, "type", "veth", "peer", "name", `${host.link}p`],
    ["link", "set", `${host.link}p`, "netns", host.ns],
    ["addr", "add", `${host.near}/30`, "dev", host.link],
    ["link", "set", host.link, "up"],
    ["-n", host.ns, "addr", "add", `${host.far}/30`, "dev", `${host.link}p`],
    ["-n", host.ns, "link", "set", `${host.link}p`, "up"],
    ["-n", host.ns, "link", "set", "lo", "up"],
  ];
  for (const step of steps) {
    const r = await runCommand("ip", step).catch(() => ({ code: 1, stderr: "ip not found" }));
    if (r.code !== 0) {
      console.error(`node mode skipped: ip ${step.join(" ")}: ${r.stderr}`);
      await runCommand("ip", ["netns", "del", host.ns]).catch(() => {});
      return false;
    }
  }
  return true;
}
