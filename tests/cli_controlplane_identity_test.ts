// `ambit` knows whom it talks to: over https it verifies the controlplane's own
// SPIFFE URI during the TLS handshake, so a server holding a valid certificate
// from the same CA — a workload's — never receives a request or the admin token.
// The impostor is a plain node:http2 server the test runs; the real CLI process
// talks to it.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http2 from "node:http2";
import * as os from "node:os";
import * as path from "node:path";
import { controlplaneUri, createUriCertificateRequest, joinPem } from "../identity/mod.ts";
import { afterAll, issue, loopbackAddress, runCommand, runtimeCommand, test, testCa } from "../testing/mod.ts";

const ca = await testCa();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-impostor-"));
const caFile = path.join(tmp, "root-cert.pem");
fs.writeFileSync(caFile, joinPem(ca.trustBundlePem));
const tokenFile = path.join(tmp, "admin-token");
fs.writeFileSync(tokenFile, "the-admin-token\n");

/** An HTTP/2 TLS server with `cert`; records every request's headers. */
async function server(cert: { chainPem: readonly string[]; privateKeyPem: string }) {
  const seen: http2.IncomingHttpHeaders[] = [];
  const s = http2.createSecureServer({ cert: joinPem(cert.chainPem), key: cert.privateKeyPem, minVersion: "TLSv1.3", ALPNProtocols: ["h2"] });
  s.on("stream", (stream: http2.ServerHttp2Stream, headers) => {
    seen.push(headers);
    stream.respond({ ":status": 200, "content-type": "application/json" });
    stream.end(JSON.stringify({ items: [] }));
  });
  s.on("error", () => {});
  const address = loopbackAddress();
  await new Promise<void>((r) => s.listen(0, address, () => r()));
  const url = `https://${address}:${(s.address() as { port: number }).port}`;
  return { seen, url, close: () => new Promise<void>((r) => s.close(() => r())) };
}

const workload = await issue(ca, "default", "sleep");
const impostor = await server(workload);
const request = await createUriCertificateRequest(controlplaneUri("cluster.local"));
const genuine = await server({ chainPem: (await ca.signUri(request.csrPem, controlplaneUri("cluster.local"), 3600)).chainPem, privateKeyPem: request.key.privateKeyPem });
afterAll(async () => {
  await impostor.close();
  await genuine.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const ambit = (args: string[]) => {
  const [cmd, argv] = runtimeCommand("cli/main.ts", args);
  return runCommand(cmd, argv, { cwd: tmp, env: { NO_COLOR: "1" } });
};

test("a workload certificate posing as the controlplane is refused before any request or token is sent", async () => {
  const r = await ambit(["get", "pods", "--controlplane", impostor.url, "--controlplane-ca", caFile, "--token-file", tokenFile]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /spiffe:\/\/cluster\.local\/ns\/default\/sa\/sleep, not the controlplane \(spiffe:\/\/cluster\.local\/ambit\/controlplane\)/);
  assert.deepEqual(impostor.seen, []);
});

test("the genuine controlplane certificate is accepted (the check above is the identity, not the CA)", async () => {
  const r = await ambit(["get", "pods", "--controlplane", genuine.url, "--controlplane-ca", caFile, "--token-file", tokenFile]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(genuine.seen.length, 1);
  assert.equal(genuine.seen[0]!.authorization, "Bearer the-admin-token");
  // Another trust domain's controlplane URI is not this one.
  const other = await ambit(["get", "pods", "--controlplane", genuine.url, "--controlplane-ca", caFile, "--token-file", tokenFile, "--trust-domain", "example.org"]);
  assert.equal(other.code, 1);
  assert.equal(genuine.seen.length, 1);
});

test("https without a CA file (and no dev default) is refused: public roots are never used", async () => {
  const r = await ambit(["get", "pods", "--controlplane", genuine.url, "--token-file", tokenFile]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--controlplane-ca <root-cert\.pem>.*Public roots are never used/s);
  assert.equal(genuine.seen.length, 1);
});
