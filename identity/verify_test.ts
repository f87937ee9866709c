import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CertificateAuthority } from "./certificate_authority.ts";
import { spiffeId } from "./spiffe.ts";
import { verifyCertificateChain } from "./verify.ts";

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
