// What an HBONE server must refuse, and what the client must refuse, each its
// own case against real TLS on loopback. nghttp (a client nobody here wrote)
// sends the malformed CONNECT.
import * as assert from "node:assert/strict";
import * as http2 from "node:http2";
import * as tls from "node:tls";
import { ConnectionPool, HboneError, HboneStatusError } from "../hbone/mod.ts";
import { CertificateAuthority, formatSpiffeId, joinPem, spiffeId, type WorkloadCertificate } from "../identity/mod.ts";
import {
  afterAll, goPeer, runtime, issue, loopbackAddress, parsePeerLines, runCommand, runtimeCommand, startEchoServer, startProcess,
  test, testCa, type TestProcess, writeCertFiles,
} from "../testing/mod.ts";

const ca = await testCa();
const serverCert = await issue(ca, "echo", "echo-server");
const clientCert = await issue(ca, "sleep", "sleep");
const serverFiles = writeCertFiles(serverCert);
const clientFiles = writeCertFiles(clientCert);
const echo = await startEchoServer(loopbackAddress());
const address = loopbackAddress();
const [cmd, args] = runtimeCommand("tests/fixtures/hbone_echo_node.ts", [
  "--listen", `${address}:0`, "--cert", serverFiles.cert, "--key", serverFiles.key, "--ca", serverFiles.ca,
  "--deny", "spiffe://cluster.local/ns/sleep/sa/denied",
]);
const server: TestProcess = startProcess(cmd, args);
const port: number = JSON.parse(await server.waitForLine(/"event":"listening"/)).port;
const pool = new ConnectionPool();
afterAll(async () => {
  pool.close();
  server.kill();
  await echo.close();
});

/** Connects with a given client certificate and reports the status or the failure. */
async function tryConnect(source: WorkloadCertificate): Promise<number | Error> {
  const p = new ConnectionPool({ connectTimeoutMs: 5000 });
  try {
    const t = await p.connect({ source, hboneAddress: { address, port }, expectedIdentities: [serverCert.identity], target: { address: echo.address, port: echo.port } });
    t.stream.end();
    return 200;
  } catch (e) {
    return e instanceof HboneStatusError ? e.status : (e as Error);
  } finally {
    p.close();
  }
}

test("refuses a client without a certificate", async () => {
  const socket = tls.connect({ host: address, port, ca: joinPem(serverCert.trustBundlePem), ALPNProtocols: ["h2"], checkServerIdentity: () => undefined, minVersion: "TLSv1.3" });
  const outcome = await new Promise<string>((resolve) => {
    socket.on("error", (e) => resolve(`error: ${e.message}`));
    socket.on("secureConnect", () => {
      // TLS 1.3 finishes the client's side first; the server's refusal arrives as an alert.
      const session = http2.connect(`https://${address}:${port}`, { createConnection: () => socket });
      session.on("error", (e) => resolve(`error: ${e.message}`));
      const s = session.request({ ":method": "CONNECT", ":authority": `${echo.address}:${echo.port}` });
      s.on("response", (h) => resolve(`status ${h[":status"]}`));
      s.on("error", (e) => resolve(`error: ${e.message}`));
      s.on("close", () => resolve("closed"));
    });
  });
  assert.doesNotMatch(outcome, /status 200/);
  socket.destroy();
});

test("refuses a certificate from another CA", async () => {
  const other = await testCa();
  const foreign = await issue(other, "sleep", "sleep");
  const outcome = await tryConnect({ ...foreign, trustBundlePem: serverCert.trustBundlePem });
  assert.ok(outcome instanceof Error, `connected: ${outcome}`);
});

test("refuses a certificate from another trust domain, even signed by the trusted root", async () => {
  const sameRoot = await CertificateAuthority.load({ dir: ca.dir, trustDomain: "evil.example" });
  const foreign = await sameRoot.issue(spiffeId("evil.example", "sleep", "sleep"), 3600);
  const outcome = await tryConnect(foreign);
  assert.ok(outcome instanceof Error, `connected: ${outcome}`);
  await server.waitForLine(/session-error.*trust domain/);
});

test("refuses an expired certificate", async () => {
  const expiring = await issue(ca, "sleep", "sleep", 1);
  await new Promise((r) => setTimeout(r, 2100));
  const outcome = await tryConnect(expiring);
  assert.ok(outcome instanceof Error, `connected: ${outcome}`);
});

test("the client refuses a server whose SAN is not the expected identity", async () => {
  const err = await pool.connect({
    source: clientCert,
    hboneAddress: { address, port },
    expectedIdentities: [spiffeId("cluster.local", "echo", "someone-else")],
    target: { address: echo.address, port: echo.port },
  }).catch((e) => e);
  assert.ok(err instanceof HboneError);
  assert.equal(err.code, "ERR_HBONE_PEER_IDENTITY");
  assert.match(err.message, new RegExp(formatSpiffeId(serverCert.identity)));
});

test("a CONNECT carrying :path (nghttp) is reset with PROTOCOL_ERROR", async () => {
  const r = await runCommand("nghttp", ["-v", "-n", "--cert", clientFiles.cert, "--key", clientFiles.key, "-H", ":method: CONNECT", `https://${address}:${port}/`], { timeoutMs: 10_000 });
  // Bun's HTTP/2 layer hands the stream to Ambit, which resets it (RFC 9113 8.1.1).
  // Deno's refuses it itself, before Ambit sees it, with a connection-wide GOAWAY
  // PROTOCOL_ERROR: stricter, and just as much a refusal (docs/hbone.md).
  const frame = runtime === "deno" ? /GOAWAY[\s\S]*error_code=PROTOCOL_ERROR/ : /RST_STREAM[\s\S]*error_code=PROTOCOL_ERROR/;
  assert.match(r.stdout + r.stderr, frame);
  assert.doesNotMatch(r.stdout, /:status: 200/);
});

test("a request that is not CONNECT gets 405", async () => {
  const r = await runCommand("nghttp", ["-v", "-n", "--cert", clientFiles.cert, "--key", clientFiles.key, `https://${address}:${port}/`], { timeoutMs: 10_000 });
  assert.match(r.stdout, /:status: 405/);
});

test("a dead upstream answers 503", async () => {
  const dead = loopbackAddress();
  const r = await runCommand(goPeer("hbone_client"), [
    "-addr", `${address}:${port}`, "-authority", `${dead}:1`, "-cert", clientFiles.cert, "-key", clientFiles.key,
    "-ca", clientFiles.ca, "-expect-san", formatSpiffeId(serverCert.identity), "-bytes", "10",
  ]);
  assert.equal(parsePeerLines(r.stdout)[0]!.status, 503, r.stdout + r.stderr);
});

test("a bad authority answers 400", async () => {
  const err = await pool.connect({ source: clientCert, hboneAddress: { address, port }, expectedIdentities: [serverCert.identity], target: { address: "not-an-ip", port: 80 } }).catch((e) => e);
  assert.equal(err.status, 400);
});

test("a denied identity answers 401", async () => {
  const denied = await issue(ca, "sleep", "denied");
  assert.equal(await tryConnect(denied), 401);
});

/** Opens TLS with the client certificate, writes `bytes`, and reports how the server answered. */
function rawTls(options: tls.ConnectionOptions, bytes: string): Promise<{ reply: string; outcome: string }> {
  return new Promise((resolve) => {
    let reply = "";
    const socket = tls.connect({
      host: address, port, cert: joinPem(clientCert.chainPem), key: clientCert.privateKeyPem, ca: joinPem(clientCert.trustBundlePem),
      checkServerIdentity: () => undefined, ...options,
    });
    const done = (outcome: string) => {
      socket.destroy();
      resolve({ reply, outcome });
    };
    socket.on("secureConnect", () => socket.write(bytes));
    socket.on("data", (d: Buffer) => void (reply += d.toString("latin1")));
    socket.on("error", (e) => done(`error: ${e.message}`));
    socket.on("close", () => done("closed"));
  });
}

test("a TLS 1.2 client is refused", async () => {
  const { reply, outcome } = await rawTls({ maxVersion: "TLSv1.2", ALPNProtocols: ["h2"] }, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  // A server that accepted TLS 1.2 would answer the preface with its SETTINGS frame.
  assert.equal(reply, "", "the server must send nothing over TLS 1.2");
  assert.match(outcome, /error|closed/);
  assert.equal(await tryConnect(clientCert), 200, "the server keeps serving");
});

for (const alpn of [["http/1.1"], undefined]) {
  test(`HTTP/1.1 over TLS (ALPN ${alpn?.join(",") ?? "none"}) is refused and the server keeps serving`, async () => {
    const { reply, outcome } = await rawTls({ ALPNProtocols: alpn }, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.doesNotMatch(reply, /HTTP\/1\.1 200/);
    assert.match(outcome, /error|closed/);
    assert.equal(await tryConnect(clientCert), 200);
  });
}
