// What an HBONE server must refuse, and what the client must refuse, each its
// own case against real TLS on loopback. nghttp (a client nobody here wrote)
// sends the malformed CONNECT. Each case asserts the refusal itself (the TLS
// alert, the status, the RST_STREAM or GOAWAY code, or the reason the server
// logged), so none passes against a server that is down or lets the peer in.
// The refusal differs by stack and runtime where their TLS layers differ; each
// pattern below names which is which (docs/hbone.md, runtime facts).
import * as assert from "node:assert/strict";
import * as http2 from "node:http2";
import * as tls from "node:tls";
import { ConnectionPool, HboneError, HboneStatusError } from "../hbone/mod.ts";
import { defaultHttp2Stack } from "../hbone/http2_stack.ts";
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
const lean = defaultHttp2Stack() === "lean";
afterAll(async () => {
  pool.close();
  server.kill();
  await echo.close();
});

/**
 * Waits for the server to log `reason` for a refused connection, from line
 * `mark` on (a refusal of an earlier case may be logged late, so the reason is
 * matched, not merely the next line).
 */
async function serverRefused(mark: number, reason: RegExp): Promise<void> {
  await server.waitForLine(new RegExp(`"event":"session-error","error":"[^"]*(${reason.source})`), 10_000, mark);
}

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
  const mark = server.lines.length;
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
  await serverRefused(mark, /PEER_DID_NOT_RETURN_A_CERTIFICATE|peer sent no certificates|the peer presented no certificate/);
  // node:tls: TLS 1.3 alert 116, in BoringSSL's words (Bun) or rustls' (Deno). Lean checks the
  // certificate after the handshake, to report why, and drops the connection.
  if (lean) assert.match(outcome, /closed|ECONNRESET|error: (Client network socket disconnected|socket hang up)/);
  // A Deno client sometimes reads the close before the alert (the server's log above still says why).
  else if (runtime === "deno") assert.match(outcome, /^error: .*(alert: CertificateRequired|socket has been ended by the other party)/);
  else assert.match(outcome, /^error: .*(TLSV1_ALERT_CERTIFICATE_REQUIRED|alert: CertificateRequired)/);
  socket.destroy();
});

test("refuses a certificate from another CA", async () => {
  const other = await testCa();
  const foreign = await issue(other, "sleep", "sleep");
  const mark = server.lines.length;
  const outcome = await tryConnect({ ...foreign, trustBundlePem: serverCert.trustBundlePem });
  assertDroppedAfterHandshake(outcome);
  // node:tls on Deno reports only the hang-up (docs/hbone.md).
  await serverRefused(mark, runtime === "deno" ? /socket hang up/ : /self signed certificate in certificate chain/);
});

test("refuses a certificate from another trust domain, even signed by the trusted root", async () => {
  const sameRoot = await CertificateAuthority.load({ dir: ca.dir, trustDomain: "evil.example" });
  const foreign = await sameRoot.issue(spiffeId("evil.example", "sleep", "sleep"), 3600);
  const mark = server.lines.length;
  const outcome = await tryConnect(foreign);
  assertDroppedAfterHandshake(outcome);
  await serverRefused(mark, /peer spiffe:\/\/evil\.example\/ns\/sleep\/sa\/sleep is not in trust domain cluster\.local/);
});

/**
 * TLS 1.3 lets a client finish its handshake before the server has checked its
 * certificate, so a refused client sees its connection dropped after it, not
 * a failed connect; ECONNREFUSED (no server) or a status is not a refusal.
 */
function assertDroppedAfterHandshake(outcome: number | Error): void {
  assert.ok(outcome instanceof Error, `not refused: ${outcome}`);
  assert.doesNotMatch(outcome.message, /ECONNREFUSED/);
  assert.match(outcome.message, /closed before (its SETTINGS|a response)|ended by the other party|GOAWAY|REFUSED_STREAM|ECONNRESET|EPIPE/);
}

test("refuses an expired certificate", async () => {
  const expiring = await issue(ca, "sleep", "sleep", 1);
  await new Promise((r) => setTimeout(r, 2100));
  const mark = server.lines.length;
  const outcome = await tryConnect(expiring);
  assertDroppedAfterHandshake(outcome);
  await serverRefused(mark, runtime === "deno" ? /socket hang up/ : /certificate has expired/);
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

test("the client refuses a server from another CA, even one presenting the expected SAN", async () => {
  const impostorCa = await testCa();
  const impostor = await issue(impostorCa, "echo", "echo-server");
  // It trusts our CA for client certificates, so only the client's own check can stop the tunnel.
  const files = writeCertFiles({ ...impostor, trustBundlePem: serverCert.trustBundlePem });
  const at = loopbackAddress();
  const [c, a] = runtimeCommand("tests/fixtures/hbone_echo_node.ts", ["--listen", `${at}:0`, "--cert", files.cert, "--key", files.key, "--ca", files.ca]);
  const proc = startProcess(c, a);
  try {
    const impostorPort: number = JSON.parse(await proc.waitForLine(/"event":"listening"/)).port;
    const p = new ConnectionPool({ connectTimeoutMs: 5000 });
    const err = await p.connect({
      source: clientCert, hboneAddress: { address: at, port: impostorPort }, expectedIdentities: [serverCert.identity], target: { address: echo.address, port: echo.port },
    }).catch((e) => e);
    p.close();
    assert.ok(err instanceof HboneError, `connected: ${err}`);
    assert.equal(err.code, "ERR_HBONE_CONNECT");
    // Lean: Bun's verdict and Ambit's own chain check (identity/verify.ts); node:tls: the runtime's.
    assert.match(err.message, /self.signed certificate in certificate chain|unable to get local issuer|unable to verify the first certificate/);
    assert.ok(!proc.lines.some((l) => l.includes('"event":"tunnel"')), "no tunnel reached the impostor");
  } finally {
    proc.kill();
  }
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
  const mark = server.lines.length;
  const { reply, outcome } = await rawTls({ maxVersion: "TLSv1.2", ALPNProtocols: ["h2"] }, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  // A server that accepted TLS 1.2 would answer the preface with its SETTINGS frame.
  assert.equal(reply, "", "the server must send nothing over TLS 1.2");
  // node:tls refuses in the handshake (alert 70); Bun.listen has no minimum version, so lean drops the
  // connection once the handshake shows TLS 1.2.
  if (lean) {
    assert.match(outcome, /ECONNRESET|closed/);
    await serverRefused(mark, /TLS version TLSv1\.2, HBONE requires TLSv1\.3/);
  } else {
    assert.match(outcome, /TLSV1_ALERT_PROTOCOL_VERSION|alert: ProtocolVersion/);
  }
  assert.equal(await tryConnect(clientCert), 200, "the server keeps serving");
});

for (const alpn of [["http/1.1"], undefined]) {
  test(`HTTP/1.1 over TLS (ALPN ${alpn?.join(",") ?? "none"}) is refused and the server keeps serving`, async () => {
    const { reply, outcome } = await rawTls({ ALPNProtocols: alpn }, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    if (alpn) {
      // Alert 120: the server offers only h2.
      assert.match(outcome, /TLSV1_ALERT_NO_APPLICATION_PROTOCOL|alert: NoApplicationProtocol/);
    } else if (lean) {
      // Without ALPN the lean server assumes h2 and answers the bad preface with GOAWAY PROTOCOL_ERROR.
      assert.match(reply, /\x07\x00{12}\x01not an HTTP\/2 connection preface/);
    } else {
      assert.match(reply, /^HTTP\/1\.0 403 Forbidden/);
    }
    assert.equal(await tryConnect(clientCert), 200);
  });
}
