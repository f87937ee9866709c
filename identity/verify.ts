import { x509 } from "./_x509.ts";
import { IdentityError } from "./errors.ts";
import type { SpiffeId } from "./spiffe.ts";
import { spiffeIdOfCertificate } from "./workload_certificate.ts";

/** Options for {@link verifyCertificateChain}. */
export interface VerifyChainOptions {
  /** Trusted roots, PEM. */
  readonly trustBundlePem: readonly string[];
  /** The trust domain the leaf must belong to; unchecked when absent. */
  readonly trustDomain?: string;
  readonly now?: Date;
}

/**
 * Verifies a leaf-first chain up to one of the trusted roots (signatures and
 * validity periods) and returns the leaf's SPIFFE id, checking its trust domain.
 */
export async function verifyCertificateChain(chainPem: readonly string[], options: VerifyChainOptions): Promise<SpiffeId> {
  const now = options.now ?? new Date();
  if (chainPem.length === 0) throw new IdentityError("ERR_CERT_UNTRUSTED", "empty certificate chain");
  const chain = chainPem.map((p) => new x509.X509Certificate(p));
  const roots = options.trustBundlePem.map((p) => new x509.X509Certificate(p));
  for (const cert of chain) {
    if (now < cert.notBefore || now > cert.notAfter) {
      throw new IdentityError("ERR_CERT_UNTRUSTED", `certificate ${cert.subject || cert.serialNumber} is not valid at ${now.toISOString()} (valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()})`);
    }
  }
  let anchored = false;
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    const root = await findIssuer(cert, roots, now);
    if (root) {
      anchored = true;
      break;
    }
    const next = chain[i + 1];
    if (!next || !(await cert.verify({ publicKey: next.publicKey, date: now, signatureOnly: true }))) {
      throw new IdentityError("ERR_CERT_UNTRUSTED", `certificate ${i} of the chain is not signed by the next one or by a trusted root`);
    }
  }
  if (!anchored) throw new IdentityError("ERR_CERT_UNTRUSTED", "certificate chain does not end at a trusted root");
  const identity = spiffeIdOfCertificate(chain[0]!);
  if (options.trustDomain !== undefined && identity.trustDomain !== options.trustDomain) {
    throw new IdentityError(
      "ERR_TRUST_DOMAIN_MISMATCH",
      `identity trust domain "${identity.trustDomain}" is not "${options.trustDomain}"`,
    );
  }
  return identity;
}

async function findIssuer(cert: x509.X509Certificate, roots: x509.X509Certificate[], now: Date) {
  for (const root of roots) {
    if (root.subject !== cert.issuer) continue;
    if (await cert.verify({ publicKey: root.publicKey, date: now, signatureOnly: true })) return root;
  }
  return undefined;
}
