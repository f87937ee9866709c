// Node credentials as an attacker sees them (docs/controlplane.md, "Who may do
// what"): a real controlplane process over its TLS API. Join tokens expire and
// work once; a joined node renews with its own certificate; revocation is final,
// closes the node's xDS streams at once and lists its certificates' serials;
// node names may be FQDNs; the CA caps workload lifetimes.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { createCertificateRequest, createUriCertificateRequest, joinPem, nodeUri, spiffeId } from "../identity/mod.ts";
import { x509 } from "../identity/_x509.ts";
import { Http2Client } from "../runtime/mod.ts";
import { afterAll, loopbackAddress, startTestControlplane, test } from "../testing/mod.ts";

const cp = await startTestControlplane();
afterAll(() => cp.kill());
const caPem = fs.readFileSync(cp.rootCertFile, "utf8");
const adminToken = fs.readFileSync(`${cp.stateDir}/admin-token`, "utf8").trim();
const admin = (method: string, p: string, body?: unknown) => cp.admin.request(method, p, {
  body: body === undefined ? undefined : JSON.stringify(body),
  headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
  timeoutMs: 10_000,
});
const anonymous = () => new Http2Client(cp.url, { ca: caPem, checkServerIdentity: () => undefined });
const tokenFor = async (node: string, ttlSeconds?: number) => (await cp.admin.json<{ token: string; expiresAt: string }>(
  "POST", `/api/v1/nodes/${node}/token`, ttlSeconds ? { ttlSeconds } : {}, { authorization: `Bearer ${adminToken}` },
));

/** An enrolled Pod of service account `sa` on `node`. */
const podOn = (node: string, sa: string, ip: string) => `
apiVersion: v1
kind: Namespace
metadata: {name: creds, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: ${sa}, namespace: creds}
---
apiVersion: v1
kind: Pod
metadata: {name: ${sa}, namespace: creds}
spec: {nodeName: ${node}, serviceAccountName: ${sa}, containers: [{name: c, image: x}]}
status: {phase: Running, podIP: ${ip}}
`;

/** Joins as `node` with `token`; returns the status and, on success, a client holding the node certificate. */
async function join(node: string, token: string) {
  const request = await createUriCertificateRequest(nodeUri("cluster.local", node));
  const client = anonymous();
  const res = await client.request("POST", "/nodes/v1/join", {
    body: JSON.stringify({ csr: request.csrPem }), headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, timeoutMs: 10_000,
  });
  const body = JSON.parse(await res.text());
  client.close();
  if (res.status !== 200) return { status: res.status, body };
  const tls = { ca: caPem, cert: joinPem(body.certChain), key: request.key.privateKeyPem, checkServerIdentity: () => undefined };
  return { status: res.status, body, asNode: new Http2Client(cp.url, tls), leaf: new x509.X509Certificate(body.certChain[0]) };
}

test("a join token works once: a second join with it is refused", async () => {
  const { token } = await tokenFor("node-once");
  const first = await join("node-once", token);
  assert.equal(first.status, 200);
  first.asNode!.close();
  const second = await join("node-once", token);
  assert.equal(second.status, 401);
  assert.match(second.body.error, /unused, unexpired join token/);
});

test("a join token expires: default 1 h, settable per token", async () => {
  const created = await tokenFor("node-hour");
  const lifetime = Date.parse(created.expiresAt) - Date.now();
  assert.ok(lifetime > 3590_000 && lifetime <= 3600_000, `default lifetime ${lifetime} ms`);
  const short = await tokenFor("node-expiring", 1);
  // Wait for the clock, not for a guess: the token's own expiry time.
  await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(short.expiresAt) - Date.now() + 20)));
  const late = await join("node-expiring", short.token);
  assert.equal(late.status, 401);
  assert.equal((await admin("POST", "/api/v1/nodes/node-x/token", { ttlSeconds: 10 * 24 * 3600 })).status, 400);
});

test("after joining, a node renews with its own certificate over mTLS; without one, renewal is refused", async () => {
  const joined = await join("node-renew", (await tokenFor("node-renew")).token);
  const request = await createUriCertificateRequest(nodeUri("cluster.local", "node-renew"));
  const renewed = await joined.asNode!.json<{ certChain: string[] }>("POST", "/nodes/v1/renew", { csr: request.csrPem });
  const leaf = new x509.X509Certificate(renewed.certChain[0]!);
  assert.notEqual(leaf.serialNumber, joined.leaf!.serialNumber);
  assert.match(leaf.getExtension(x509.SubjectAlternativeNameExtension)!.names.items[0]!.value, /\/ambit\/node\/node-renew$/);
  joined.asNode!.close();
  const anon = anonymous();
  await assert.rejects(anon.json("POST", "/nodes/v1/renew", { csr: request.csrPem }), /401/);
  // A node certificate renews only its own name.
  const other = await createUriCertificateRequest(nodeUri("cluster.local", "node-once"));
  const again = await join("node-renew2", (await tokenFor("node-renew2")).token);
  await assert.rejects(again.asNode!.json("POST", "/nodes/v1/renew", { csr: other.csrPem }), /400 .*expected spiffe:\/\/cluster\.local\/ambit\/node\/node-renew2/);
  again.asNode!.close();
  anon.close();
});

test("node names may be FQDNs (the default --node is the host name)", async () => {
  const node = "worker-1.eu-west.example.com";
  const { token } = await tokenFor(node);
  const joined = await join(node, token);
  assert.equal(joined.status, 200, JSON.stringify(joined.body));
  assert.equal(joined.body.node, node);
  joined.asNode!.close();
});

test("revoking a node closes its open xDS stream within 1 s, refuses its certificates, and a new token does not un-revoke it", async () => {
  const ip = loopbackAddress();
  assert.equal((await cp.apply(podOn("node-revoked", "victim", ip))).status, 200);
  const joined = await join("node-revoked", (await tokenFor("node-revoked")).token);
  const workload = await createCertificateRequest(spiffeId("cluster.local", "creds", "victim"));
  const issued = await joined.asNode!.json<{ certChain: string[] }>("POST", "/ca/v1/certificates", { csr: workload.csrPem });
  const workloadLeaf = new x509.X509Certificate(issued.certChain[0]!);
  const stream = await joined.asNode!.request("POST", "/xds/v1/delta", {
    body: JSON.stringify({ node: { id: "ztunnel~victim", nodeName: "node-revoked" }, subscriptions: { "ambit.dev/v1/TrustBundle": {} } }),
    headers: { "content-type": "application/json" },
  });
  assert.equal(stream.status, 200);
  const ended = new Promise<number>((resolve) => {
    stream.stream.on("data", () => {});
    stream.stream.once("close", () => resolve(Date.now()));
  });
  const revokedAt = Date.now();
  assert.equal((await admin("DELETE", "/api/v1/nodes/node-revoked/token")).status, 200);
  const closedAfter = (await ended) - revokedAt;
  assert.ok(closedAfter < 1000, `stream closed ${closedAfter} ms after the revocation`);

  // The node certificate is refused everywhere, and re-issuing a token changes nothing.
  const refused = await joined.asNode!.request("POST", "/xds/v1/delta", {
    body: JSON.stringify({ node: { id: "ztunnel~victim2", nodeName: "node-revoked" }, subscriptions: {} }), headers: { "content-type": "application/json" },
  });
  assert.equal(refused.status, 401);
  assert.match(await refused.text(), /node node-revoked is revoked/);
  await assert.rejects(joined.asNode!.json("POST", "/nodes/v1/renew", { csr: workload.csrPem }), /401 .*revoked/);
  const reissue = await admin("POST", "/api/v1/nodes/node-revoked/token", {});
  assert.equal(reissue.status, 409);
  assert.match(await reissue.text(), /revoked/);
  joined.asNode!.close();

  // Every node gets the revoked serials (node and workload) with the trust bundle, until they expire.
  const nodes = JSON.parse(await (await admin("GET", "/api/v1/nodes")).text()).nodes as { name: string; state: string }[];
  assert.equal(nodes.find((n) => n.name === "node-revoked")?.state, "revoked");
  const bundleClient = await join("node-watcher", (await tokenFor("node-watcher")).token);
  const watch = await bundleClient.asNode!.request("POST", "/xds/v1/delta", {
    body: JSON.stringify({ node: { id: "ztunnel~watcher", nodeName: "node-watcher" }, subscriptions: { "ambit.dev/v1/TrustBundle": {} } }),
    headers: { "content-type": "application/json" },
  });
  const firstLine = await new Promise<string>((resolve) => {
    let text = "";
    watch.stream.on("data", (c: Buffer) => {
      text += c.toString();
      if (text.includes("\n")) resolve(text.split("\n")[0]!);
    });
  });
  const bundle = JSON.parse(firstLine).resources[0].resource as { revokedSerials?: string[] };
  const norm = (s: string) => s.toLowerCase().replace(/^0+/, "");
  assert.ok(bundle.revokedSerials?.includes(norm(workloadLeaf.serialNumber)), `${JSON.stringify(bundle)} lacks ${workloadLeaf.serialNumber}`);
  assert.ok(bundle.revokedSerials?.includes(norm(joined.leaf!.serialNumber)));
  bundleClient.asNode!.close();
});

test("the CA gives a workload certificate 24 h unless asked, and never more than 7 days", async () => {
  const ip = loopbackAddress();
  assert.equal((await cp.apply(podOn("node-ttl", "ttl", ip))).status, 200);
  const joined = await join("node-ttl", (await tokenFor("node-ttl")).token);
  const lifetime = async (validitySeconds?: number) => {
    const csr = await createCertificateRequest(spiffeId("cluster.local", "creds", "ttl"));
    const issued = await joined.asNode!.json<{ certChain: string[] }>("POST", "/ca/v1/certificates", { csr: csr.csrPem, validitySeconds });
    return (new x509.X509Certificate(issued.certChain[0]!).notAfter.getTime() - Date.now()) / 1000;
  };
  const byDefault = await lifetime();
  assert.ok(byDefault > 24 * 3600 - 120 && byDefault <= 24 * 3600, `default ${byDefault} s`);
  const asked = await lifetime(365 * 24 * 3600);
  assert.ok(asked <= 7 * 24 * 3600 && asked > 7 * 24 * 3600 - 120, `capped at ${asked} s`);
  joined.asNode!.close();
});

test("a ztunnel's session joins once with its token, then renews with its node certificate (the token is used up)", async () => {
  const { ControlplaneSession } = await import("../ztunnel/controlplane_session.ts");
  const { token } = await tokenFor("node-session");
  const session = new ControlplaneSession({ url: cp.url, node: "node-session", trustDomain: "cluster.local", caPem, joinToken: token }, 3600);
  await session.join();
  const first = session.tls!.cert;
  await session.join();
  assert.notEqual(session.tls!.cert, first, "a second join() renews: a new node certificate");
  assert.equal((await join("node-session", token)).status, 401, "the token itself works no more");
  session.close();
});
