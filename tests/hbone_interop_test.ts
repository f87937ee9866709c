// HBONE against peers nobody on this team wrote: Go's standard library HTTP/2
// (client and server) and python3-h2. Each moves 10 MiB each way through a real
// mTLS tunnel on loopback and each side checks the other's SPIFFE URI SAN.
import * as assert from "node:assert/strict";
import { ConnectionPool } from "../hbone/mod.ts";
import { formatSpiffeId } from "../identity/mod.ts";
import {
  afterAll, exchange, goPeer, issue, loopbackAddress, parsePeerLines, pythonH2Client, runCommand, runtimeCommand,
  startEchoServer, startProcess, SYSTEM_PYTHON, test, testCa, type TestProcess, type TestServer, writeCertFiles,
} from "../testing/mod.ts";

const TEN_MIB = 10 * 1024 * 1024;
const ca = await testCa();
const serverCert = await issue(ca, "echo", "echo-server");
const clientCert = await issue(ca, "sleep", "sleep");
const serverFiles = writeCertFiles(serverCert);
const clientFiles = writeCertFiles(clientCert);
const serverSan = formatSpiffeId(serverCert.identity);
const clientSan = formatSpiffeId(clientCert.identity);

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function ambitServer(): Promise<{ proc: TestProcess; address: string; port: number; echo: TestServer }> {
  const echo = await startEchoServer(loopbackAddress());
  const address = loopbackAddress();
  const [cmd, args] = runtimeCommand("tests/fixtures/hbone_echo_node.ts", [
    "--listen", `${address}:0`, "--cert", serverFiles.cert, "--key", serverFiles.key, "--ca", serverFiles.ca,
  ]);
  const proc = startProcess(cmd, args);
  const line = await proc.waitForLine(/"event":"listening"/);
  cleanups.push(() => proc.kill(), () => echo.close());
  return { proc, address, port: JSON.parse(line).port, echo };
}

/** Runs an independent client against an Ambit server and checks both sides saw the right identity. */
async function echoThroughAmbit(client: string, args: (addr: string, authority: string) => string[]) {
  const { proc, address, port, echo } = await ambitServer();
  const r = await runCommand(client, args(`${address}:${port}`, `${echo.address}:${echo.port}`));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const [res] = parsePeerLines(r.stdout);
  assert.equal(res!.status, 200);
  assert.equal(res!.peerSan, serverSan);
  assert.equal(res!.receivedBytes, TEN_MIB);
  assert.equal(res!.receivedSha256, res!.sentSha256);
  const tunnel = JSON.parse(await proc.waitForLine(/"event":"tunnel"/));
  assert.equal(tunnel.peer, clientSan);
  assert.equal(tunnel.sent, TEN_MIB);
  assert.equal(tunnel.received, TEN_MIB);
}

test("Go stdlib HBONE client → Ambit server: 10 MiB each way, SANs checked both sides", () =>
  echoThroughAmbit(goPeer("hbone_client"), (addr, authority) => [
    "-addr", addr, "-authority", authority, "-cert", clientFiles.cert, "-key", clientFiles.key, "-ca", clientFiles.ca,
    "-expect-san", serverSan, "-bytes", String(TEN_MIB),
  ]), { timeout: 60_000 });

test("python3-h2 HBONE client → Ambit server: 10 MiB each way, SANs checked both sides", () =>
  echoThroughAmbit(SYSTEM_PYTHON, (addr, authority) => [
    pythonH2Client, "--addr", addr, "--authority", authority, "--cert", clientFiles.cert, "--key", clientFiles.key,
    "--ca", clientFiles.ca, "--expect-san", serverSan, "--bytes", String(TEN_MIB),
  ]), { timeout: 60_000 });

test("Ambit client → Go stdlib HBONE server: 10 MiB each way, SANs checked both sides", async () => {
  const address = loopbackAddress();
  const go = startProcess(goPeer("hbone_server"), ["-listen", `${address}:0`, "-cert", serverFiles.cert, "-key", serverFiles.key, "-ca", serverFiles.ca]);
  cleanups.push(() => go.kill());
  const port = Number(JSON.parse(await go.waitForLine(/"event":"listening"/)).addr.split(":").pop());
  const pool = new ConnectionPool();
  cleanups.push(() => pool.close());
  const tunnel = await pool.connect({
    source: clientCert,
    hboneAddress: { address, port },
    expectedIdentities: [serverCert.identity],
    target: { address: "127.0.0.1", port: 9 },
  });
  assert.equal(formatSpiffeId(tunnel.peerIdentity), serverSan);
  const res = await exchange(tunnel.stream, TEN_MIB);
  assert.equal(res.received, TEN_MIB);
  assert.equal(res.receivedSha256, res.sentSha256);
  const connect = JSON.parse(await go.waitForLine(/"event":"connect"/));
  assert.equal(connect.peerSan, clientSan);
  assert.equal(connect.authority, "127.0.0.1:9");
}, { timeout: 60_000 });
