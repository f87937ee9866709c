// Two real ztunnel processes (node-a, node-b) from one ztunnel-format config
// file, workloads on their own 127.x addresses, and clients nobody here wrote
// (curl, openssl, Go's HTTP/2) driving traffic through them.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as path from "node:path";
import { CertificateAuthority, spiffeId } from "../identity/mod.ts";
import {
  afterAll, exchange, goPeer, issue, loopbackAddress, parsePeerLines, probeTls12, readAll, runCommand, service, socksConnect, socksUrl, startEchoServer,
  startMesh, test, testCa, workload, writeCertFiles,
} from "../testing/mod.ts";

const ip = { sleep: loopbackAddress(), echo: loopbackAddress(), local: loopbackAddress(), bulk: loopbackAddress() };
const vip = "10.96.0.10";
const config = {
  workloads: [
    workload({ name: "sleep", ip: ip.sleep, node: "node-a" }),
    workload({ name: "echo", ip: ip.echo, node: "node-b", services: { "default/echo.default.svc.cluster.local": { 80: 8080 } } }),
    workload({ name: "local-echo", ip: ip.local, node: "node-a" }),
    workload({ name: "bulk", ip: ip.bulk, node: "node-b" }),
  ],
  services: [service({ name: "echo", vip, ports: { 80: 8080 } })],
};

/** An HTTP server on a workload address that says who it is and who asked. */
function httpServer(address: string, port: number, name: string): Promise<http.Server> {
  const server = http.createServer((req, res) => res.end(`${name} says hello to ${req.socket.remoteAddress} at ${req.url}\n`));
  return new Promise((resolve) => server.listen(port, address, () => resolve(server)));
}

const echoHttp = await httpServer(ip.echo, 8080, "echo");
const localHttp = await httpServer(ip.local, 8080, "local-echo");
const bulkEcho = await startEchoServer(ip.bulk, 9000);
const mesh = await startMesh(["node-a", "node-b"], config);
const a = mesh.nodes["node-a"]!;
const b = mesh.nodes["node-b"]!;
afterAll(async () => {
  await mesh.stop();
  echoHttp.close();
  localHttp.close();
  await bulkEcho.close();
});

test("curl -x socks5h://<the workload's credentials> from a node-a workload reaches a node-b service by name; node-b sees the caller's identity", async () => {
  const r = await runCommand("curl", ["-sS", "--max-time", "10", "-x", socksUrl(ip.sleep), "http://echo.default.svc.cluster.local/hello"]);
  assert.equal(r.code, 0, r.stderr);
  // The server sees the connection come from node-b's ztunnel on the workload's own address.
  assert.match(r.stdout, /^echo says hello to .* at \/hello$/m);
  const line = await b.proc.waitForLine(/access\tconnection complete\tdirection=inbound.*src\.identity=spiffe:\/\/cluster\.local\/ns\/default\/sa\/sleep/);
  assert.match(line, /dst\.workload=echo/);
  const metrics = await b.metrics();
  assert.match(metrics, /istio_tcp_connections_opened_total\{reporter="destination",source_workload="sleep",.*source_principal="spiffe:\/\/cluster\.local\/ns\/default\/sa\/sleep".*destination_workload="echo".*connection_security_policy="mutual_tls"\} [1-9]/);
});

test("the service VIP and the short host names work too", async () => {
  for (const url of [`http://${vip}/vip`, "http://echo.default.svc/short", "http://echo.default/shorter"]) {
    const r = await runCommand("curl", ["-sS", "--max-time", "10", "-x", socksUrl(ip.sleep), url]);
    assert.equal(r.code, 0, `${url}: ${r.stderr}`);
    assert.match(r.stdout, /^echo says hello/);
  }
});

test("between ztunnels it is TLS 1.3 with both certificates checked (openssl probes node-b's HBONE port)", async () => {
  const root = path.join(mesh.caDir, "root-cert.pem");
  const ca = await CertificateAuthority.load({ dir: mesh.caDir, trustDomain: "cluster.local" });
  const files = writeCertFiles(await ca.issue(spiffeId("cluster.local", "default", "sleep"), 600));
  const withCert = await runCommand("openssl", ["s_client", "-connect", `${ip.echo}:15008`, "-alpn", "h2", "-cert", files.cert, "-key", files.key, "-CAfile", root, "-verify_return_error"], { input: "", timeoutMs: 10_000 });
  assert.match(withCert.stdout, /Protocol\s*:\s*TLSv1\.3|New, TLSv1\.3/);
  assert.match(withCert.stdout, /Verify return code: 0 \(ok\)/);
  assert.match(withCert.stdout, /ALPN protocol: h2/);
  const leaf = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec((await runCommand("openssl", ["s_client", "-connect", `${ip.echo}:15008`, "-cert", files.cert, "-key", files.key, "-CAfile", root], { input: "" })).stdout)![0];
  const san = await runCommand("openssl", ["x509", "-noout", "-ext", "subjectAltName"], { input: leaf });
  assert.match(san.stdout, /URI:spiffe:\/\/cluster\.local\/ns\/default\/sa\/echo/);
  // TLS 1.2 gets no HTTP/2: node:http2 refuses the handshake (protocol_version alert); the lean
  // stack, on which Bun cannot bound the version in the handshake, closes right after it without a byte.
  const tls12 = await probeTls12({ address: ip.echo, port: 15008 }, files);
  assert.ok(tls12.refused, `TLS 1.2 was served: ${JSON.stringify(tls12)}`);
  if (tls12.handshakeError === undefined) assert.equal(tls12.version, "TLSv1.2", JSON.stringify(tls12));
  else assert.match(tls12.handshakeError, /protocol.version|unsupported protocol|closed during the handshake|ECONNRESET/i);
  // The probe can tell: a server that speaks HTTP/2 over TLS 1.2 is caught.
  const lax = http2.createSecureServer({ cert: fs.readFileSync(files.cert), key: fs.readFileSync(files.key), minVersion: "TLSv1.2", maxVersion: "TLSv1.2" });
  await new Promise<void>((r) => lax.listen(0, ip.echo, () => r()));
  const caught = await probeTls12({ address: ip.echo, port: (lax.address() as { port: number }).port }, files);
  lax.close();
  assert.equal(caught.refused, false, `the probe did not see a TLS 1.2 HTTP/2 server answer: ${JSON.stringify(caught)}`);
});

test("same-node destination works and is counted with both identities", async () => {
  const r = await runCommand("curl", ["-sS", "--max-time", "10", "-x", socksUrl(ip.sleep).replace("socks5h:", "socks5:"), `http://${ip.local}:8080/same-node`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^local-echo says hello/);
  const principals = 'source_principal="spiffe://cluster.local/ns/default/sa/sleep"';
  const dest = 'destination_workload="local-echo"';
  // The close is recorded when both directions end, which can be just after curl has its answer.
  const closedSeries = async () => {
    const lines = (await a.metrics()).split("\n");
    const source = lines.find((l) => l.startsWith("istio_tcp_connections_closed_total{reporter=\"source\"") && l.includes(principals) && l.includes(dest) && l.includes('destination_principal="spiffe://cluster.local/ns/default/sa/local-echo"'));
    const destination = lines.find((l) => l.startsWith("istio_tcp_connections_closed_total{reporter=\"destination\"") && l.includes(principals) && l.includes(dest));
    return { source, destination };
  };
  let found = await closedSeries();
  for (const deadline = Date.now() + 5000; (!found.source || !found.destination) && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 50));
    found = await closedSeries();
  }
  assert.ok(found.source, "no reporter=source series with both identities");
  assert.ok(found.destination, "no reporter=destination series with the caller's identity");
});

test("100 concurrent connections from one workload to one destination share at most 2 HBONE connections", async () => {
  const before = (await (await a.admin("/debug/pool")).json()).connectionsOpened as number;
  const sockets = await Promise.all(Array.from({ length: 100 }, async () => {
    const r = await socksConnect({ address: ip.sleep, port: 15080 }, ip.bulk, 9000);
    assert.ok(r.ok, `refused: ${!r.ok && r.reply}`);
    return r.socket;
  }));
  const results = await Promise.all(sockets.map((s) => exchange(s, 10_000)));
  for (const res of results) assert.equal(res.receivedSha256, res.sentSha256);
  const after = (await (await a.admin("/debug/pool")).json()).connectionsOpened as number;
  assert.ok(after - before <= 2, `opened ${after - before} HBONE connections`);
}, { timeout: 60_000 });

test("a Go stdlib HBONE client with a mesh certificate reaches a workload through node-b's inbound; without one, or from another CA, it is refused", async () => {
  const ca = await CertificateAuthority.load({ dir: mesh.caDir, trustDomain: "cluster.local" });
  const good = writeCertFiles(await ca.issue(spiffeId("cluster.local", "default", "go-client"), 600));
  const run = (files: { cert: string; key: string }, bytes: number) =>
    runCommand(goPeer("hbone_client"), [
      "-addr", `${ip.bulk}:15008`, "-authority", `${ip.bulk}:9000`, "-cert", files.cert, "-key", files.key,
      "-ca", good.ca, "-expect-san", "spiffe://cluster.local/ns/default/sa/bulk", "-bytes", String(bytes), "-timeout", "10",
    ]);
  const ok = await run(good, 1_000_000);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const res = parsePeerLines(ok.stdout)[0]!;
  assert.equal(res.receivedSha256, res.sentSha256);
  const foreign = writeCertFiles(await issue(await testCa(), "default", "go-client"));
  const refused = await run(foreign, 10);
  assert.notEqual(refused.code, 0, "a certificate from another CA was accepted");
  const noCert = { cert: path.join(mesh.dir, "none.pem"), key: path.join(mesh.dir, "none.key") };
  fs.writeFileSync(noCert.cert, "");
  fs.writeFileSync(noCert.key, "");
  assert.notEqual((await run(noCert, 10)).code, 0, "a client without a certificate was accepted");
});

test("promtool finds no parse errors in /metrics", async () => {
  for (const node of [a, b]) {
    const r = await runCommand("promtool", ["check", "metrics"], { input: await node.metrics() });
    assert.notEqual(r.code, 1, r.stdout + r.stderr);
    assert.match(await node.metrics(), /istio_build\{component="ztunnel",tag="[^"]+"\} 1/);
  }
});
