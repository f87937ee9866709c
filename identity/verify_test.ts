import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CertificateAuthority } from "./certificate_authority.ts";
import { spiffeId } from "./spiffe.ts";
import { verifyCertificateChain } from "./verify.ts";
import { x509 } from "./_x509.ts";
import { generateKeyMaterial, WORKLOAD_KEY_ALGORITHM } from "./keys.ts";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "ambit-verify-"));
const sleep = spiffeId("cluster.local", "default", "sleep");

test("a chain from another CA is untrusted", async () => {
  const ours = await CertificateAuthority.loadOrCreate({ dir: tmp(), trustDomain: "cluster.local" });
  const theirs = await CertificateAuthority.loadOrCreate({ dir: tmp(), trustDomain: "cluster.local" });
  const cert = await theirs.issue(sleep, 3600);
  const err = await verifyCertificateChain(cert.chainPem, { trustBundlePem: ours.trustBundlePem }).catch((e) => e);
  expect(err.code).toBe("ERR_CERT_UNTRUSTED");
});

test("an expired certificate is untrusted", async () => {
  const ca = await CertificateAuthority.loadOrCreate({ dir: tmp(), trustDomain: "cluster.local" });
  const cert = await ca.issue(sleep, 3600);
  const err = await verifyCertificateChain(cert.chainPem, { trustBundlePem: ca.trustBundlePem, now: new Date(Date.now() + 2 * 3600_000) }).catch((e) => e);
  expect(err.code).toBe("ERR_CERT_UNTRUSTED");
  expect(err.message).toContain("not valid at");
});

test("the trust domain is checked", async () => {
  const ca = await CertificateAuthority.loadOrCreate({ dir: tmp(), trustDomain: "cluster.local" });
  const cert = await ca.issue(sleep, 3600);
  const err = await verifyCertificateChain(cert.chainPem, { trustBundlePem: ca.trustBundlePem, trustDomain: "example.org" }).catch((e) => e);
  expect(err.code).toBe("ERR_TRUST_DOMAIN_MISMATCH");
});

test("an empty chain is untrusted", async () => {
  const err = await verifyCertificateChain([], { trustBundlePem: [] }).catch((e) => e);
  expect(err.code).toBe("ERR_CERT_UNTRUSTED");
});

// Hand-built chains (root → intermediate → leaf) for the issuer checks.

interface Issuer { readonly cert: x509.X509Certificate; readonly key: CryptoKey }
const HOUR = 3600_000;

async function makeCert(subject: string, issuer: Issuer | undefined, extensions: x509.Extension[], validity = { from: -HOUR, to: HOUR }): Promise<Issuer & { pem: string }> {
  const { keys } = await generateKeyMaterial();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: crypto.randomUUID().replace(/-/g, "").slice(0, 16),
    subject,
    issuer: issuer?.cert.subject ?? subject,
    notBefore: new Date(Date.now() + validity.from),
    notAfter: new Date(Date.now() + validity.to),
    publicKey: keys.publicKey,
    signingKey: issuer?.key ?? keys.privateKey,
    signingAlgorithm: WORKLOAD_KEY_ALGORITHM,
    extensions,
  });
  return { cert, key: keys.privateKey, pem: cert.toString("pem") };
}

const ca = (pathLength?: number) => [new x509.BasicConstraintsExtension(true, pathLength, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)];
const leafExtensions = () => [
  new x509.BasicConstraintsExtension(false, undefined, true),
  new x509.SubjectAlternativeNameExtension([{ type: "url", value: "spiffe://cluster.local/ns/default/sa/sleep" }]),
];

async function chain(options: { root?: x509.Extension[]; intermediate?: x509.Extension[]; intermediateValidity?: { from: number; to: number } } = {}) {
  const root = await makeCert("CN=root", undefined, options.root ?? ca());
  const intermediate = await makeCert("CN=intermediate", root, options.intermediate ?? ca(), options.intermediateValidity);
  const leaf = await makeCert("CN=leaf", intermediate, leafExtensions());
  return { chainPem: [leaf.pem, intermediate.pem], trustBundlePem: [root.pem] };
}

const cases: [string, Parameters<typeof chain>[0], string | undefined][] = [
  ["a proper intermediate", {}, undefined],
  ["an intermediate that is not a CA", { intermediate: [new x509.BasicConstraintsExtension(false, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)] }, "not a CA"],
  ["an intermediate without basicConstraints", { intermediate: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)] }, "not a CA"],
  ["an intermediate without keyCertSign", { intermediate: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)] }, "keyCertSign"],
  ["a root whose path length admits no intermediate", { root: ca(0) }, "allows 0 intermediates"],
  ["a root whose path length admits one", { root: ca(1) }, undefined],
  ["an expired intermediate", { intermediateValidity: { from: -2 * HOUR, to: -HOUR } }, "not valid at"],
  ["an intermediate not yet valid", { intermediateValidity: { from: HOUR, to: 2 * HOUR } }, "not valid at"],
];
for (const [name, options, refusal] of cases) {
  test(`chain through ${name}: ${refusal ? "untrusted" : "trusted"}`, async () => {
    const c = await chain(options);
    const outcome = await verifyCertificateChain(c.chainPem, { trustBundlePem: c.trustBundlePem }).catch((e) => e);
    if (!refusal) return expect(outcome).toEqual(sleep);
    expect(outcome.code).toBe("ERR_CERT_UNTRUSTED");
    expect(outcome.message).toContain(refusal);
  });
}

test("a leaf that is itself a CA is untrusted", async () => {
  const root = await makeCert("CN=root", undefined, ca());
  const leaf = await makeCert("CN=leaf", root, [new x509.BasicConstraintsExtension(true, undefined, true), leafExtensions()[1]!]);
  const err = await verifyCertificateChain([leaf.pem], { trustBundlePem: [root.pem] }).catch((e) => e);
  expect(err.message).toContain("is a CA");
});

test("intermediates may come in any order, and DER works as well as PEM", async () => {
  const root = await makeCert("CN=root", undefined, ca());
  const a = await makeCert("CN=a", root, ca());
  const b = await makeCert("CN=b", a, ca());
  const leaf = await makeCert("CN=leaf", b, leafExtensions());
  expect(await verifyCertificateChain([new Uint8Array(leaf.cert.rawData), a.pem, b.pem], { trustBundlePem: [root.pem] })).toEqual(sleep);
});
