import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CertificateAuthority, joinPem, spiffeId, type WorkloadCertificate } from "../identity/mod.ts";

/** A throwaway CA in a temp directory, for tests. */
export async function testCa(trustDomain = "cluster.local"): Promise<CertificateAuthority> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-test-ca-"));
  return CertificateAuthority.loadOrCreate({ dir, trustDomain });
}

/** Issues a certificate for `ns/sa` in the CA's trust domain. */
export function issue(ca: CertificateAuthority, ns: string, sa: string, ttlSeconds = 3600): Promise<WorkloadCertificate> {
  return ca.issue(spiffeId(ca.trustDomain, ns, sa), ttlSeconds);
}

/** PEM files for peers written in other languages: cert.pem (chain), key.pem, ca.pem. */
export interface CertFiles {
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/** Writes a certificate as PEM files into a fresh temp directory. */
export function writeCertFiles(cert: WorkloadCertificate): CertFiles {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-test-cert-"));
  const files = { dir, cert: path.join(dir, "cert.pem"), key: path.join(dir, "key.pem"), ca: path.join(dir, "ca.pem") };
  fs.writeFileSync(files.cert, joinPem(cert.chainPem));
  fs.writeFileSync(files.key, cert.privateKeyPem, { mode: 0o600 });
  fs.writeFileSync(files.ca, joinPem(cert.trustBundlePem));
  return files;
}
