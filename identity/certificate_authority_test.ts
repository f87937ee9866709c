import { expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { x509 } from "./_x509.ts";
import { CA_FILES, CertificateAuthority } from "./certificate_authority.ts";
import { createCertificateRequest } from "./csr.ts";
import { IdentityError } from "./errors.ts";
import { spiffeId } from "./spiffe.ts";
import { verifyCertificateChain } from "./verify.ts";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "ambit-ca-"));
const sleep = spiffeId("cluster.local", "default", "sleep");

test("creates a root on first use, persists it, and loads the same root again", async () => {
  const dir = tmp();
  const a = await CertificateAuthority.loadOrCreate({ dir, trustDomain: "cluster.local" });
  for (const f of Object.values(CA_FILES)) expect(fs.existsSync(path.join(dir, f))).toBe(true);
  expect(fs.statSync(path.join(dir, CA_FILES.key)).mode & 0o777).toBe(0o600);
  const b = await CertificateAuthority.loadOrCreate({ dir, trustDomain: "cluster.local" });
  expect(b.trustBundlePem).toEqual(a.trustBundlePem);
});

test("several processes sharing a directory end up with one root", async () => {
  const dir = tmp();
  const cas = await Promise.all([1, 2, 3].map(() => CertificateAuthority.loadOrCreate({ dir, trustDomain: "cluster.local" })));
  expect(new Set(cas.map((c) => c.trustBundlePem[0])).size).toBe(1);
});

test("signs a CSR: P-256 key, one URI SAN, leaf first, chains to the root", async () => {
  const ca = await CertificateAuthority.loadOrCreate({ dir: tmp(), trustDomain: "cluster.local" });
  const req = await createCertificateRequest(sleep);
  const issued = await ca.sign(req.csrPem, 3600);
  expect(issued.chainPem.length).toBe(2);
  const leaf = new x509.X509Certificate(issued.chainPem[0]!);
  expect((leaf.publicKey.algorithm as EcKeyAlgorithm).namedCurve).toBe("P-256");
  const san = leaf.getExtension(x509.SubjectAlternativeNameExtension)!;
  expect(san.names.items.map((n) => [n.type, n.value])).toEqual([["url", "spiffe://cluster.local/ns/default/sa/sleep"]]);
  expect(issued.chainPem[issued.chainPem.length - 1]!.trim()).toBe(ca.trustBundlePem[0]!.trim());
  expect(await verifyCertificateChain(issued.chainPem, { trustBundlePem: ca.trustBundlePem, trustDomain: "cluster.local" })).toEqual(sleep);
});

test("caps the TTL at the CA's maximum", async () => {
  const ca = await CertificateAuthority.loadOrCreate({ dir: tmp(), trustDomain: "cluster.local", maxTtlSeconds: 600 });
  const issued = await ca.sign((await createCertificateRequest(sleep)).csrPem, 86400);
  const ttl = (issued.notAfter.getTime() - Date.now()) / 1000;
  expect(ttl).toBeLessThanOrEqual(600);
  expect(ttl).toBeGreaterThan(590);
});

test("refuses a CSR from another trust domain", async () => {
  const ca = await CertificateAuthority.loadOrCreate({ dir: tmp(), trustDomain: "cluster.local" });
  const req = await createCertificateRequest(spiffeId("other.domain", "default", "sleep"));
  const err = await ca.sign(req.csrPem, 3600).catch((e) => e);
  expect(err).toBeInstanceOf(IdentityError);
  expect(err.code).toBe("ERR_TRUST_DOMAIN_MISMATCH");
});

test("refuses a CSR with two SANs or a DNS SAN, or a tampered one", async () => {
  const ca = await CertificateAuthority.loadOrCreate({ dir: tmp(), trustDomain: "cluster.local" });
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]) as CryptoKeyPair;
  const make = (names: x509.JsonGeneralName[]) =>
    x509.Pkcs10CertificateRequestGenerator.create({
      keys,
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
      extensions: [new x509.SubjectAlternativeNameExtension(names)],
    });
  const two = await make([{ type: "url", value: "spiffe://cluster.local/ns/a/sa/b" }, { type: "url", value: "spiffe://cluster.local/ns/a/sa/c" }]);
  const dns = await make([{ type: "dns", value: "example.com" }]);
  for (const csr of [two, dns]) {
    const err = await ca.sign(csr.toString("pem"), 3600).catch((e) => e);
    expect(err.code).toBe("ERR_CSR_INVALID");
  }
  const err = await ca.sign("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----", 3600).catch((e) => e);
  expect(err.code).toBe("ERR_CSR_INVALID");
});

test("loads an operator's intermediate from Istio's plug-in layout and returns the full chain", async () => {
  const dir = tmp();
  const sh = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  fs.writeFileSync(path.join(dir, "int.ext"), "basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n");
  sh(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "root-key.pem", "-out", "root-cert.pem", "-days", "30", "-subj", "/O=Istio/CN=Root CA"]);
  sh(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca-key.pem", "-out", "ca.csr", "-subj", "/O=Istio/CN=Intermediate CA"]);
  sh(["x509", "-req", "-in", "ca.csr", "-CA", "root-cert.pem", "-CAkey", "root-key.pem", "-CAcreateserial", "-days", "20", "-extfile", "int.ext", "-out", "ca-cert.pem"]);
  fs.writeFileSync(path.join(dir, "cert-chain.pem"), fs.readFileSync(path.join(dir, "ca-cert.pem"), "utf8") + fs.readFileSync(path.join(dir, "root-cert.pem"), "utf8"));
  fs.rmSync(path.join(dir, "root-key.pem"));
  const ca = await CertificateAuthority.loadOrCreate({ dir, trustDomain: "cluster.local" });
  const issued = await ca.sign((await createCertificateRequest(sleep)).csrPem, 3600);
  expect(issued.chainPem.length).toBe(3);
  fs.writeFileSync(path.join(dir, "leaf.pem"), issued.chainPem[0]!);
  fs.writeFileSync(path.join(dir, "untrusted.pem"), issued.chainPem[1]!);
  // openssl, not our code, judges the chain.
  sh(["verify", "-CAfile", "root-cert.pem", "-untrusted", "untrusted.pem", "leaf.pem"]);
  expect(await verifyCertificateChain(issued.chainPem, { trustBundlePem: ca.trustBundlePem })).toEqual(sleep);
});

test("a missing or unreadable CA key is a clear error", async () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, CA_FILES.cert), "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n");
  const err = await CertificateAuthority.load({ dir, trustDomain: "cluster.local" }).catch((e) => e);
  expect(err.code).toBe("ERR_CA_LOAD");
  expect(err.message).toContain(CA_FILES.key);
});
