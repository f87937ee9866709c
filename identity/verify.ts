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

/** A certificate as PEM text or DER bytes. */
export type CertificateInput = string | Uint8Array;

/**
 * Verifies a leaf-first chain up to one of the trusted roots and returns the
 * leaf's SPIFFE id, checking its trust domain. The certificates after the leaf
 * are candidate intermediates, in any order (unused ones are ignored, as TLS
 * stacks do). Every certificate on the path must be valid at `now`; every
 * issuer must be a CA (basicConstraints CA:true) allowed to sign certificates
 * (keyUsage keyCertSign) with a path length that admits the intermediates
 * below it; the leaf must not be a CA.
 *
 * @example
 * ```ts
 * const id = await verifyCertificateChain(peer.chainPem, { trustBundlePem: bundle, trustDomain: "cluster.local" });
 * ```
 */
export async function verifyCertificateChain(chainPem: readonly CertificateInput[], options: VerifyChainOptions): Promise<SpiffeId> {
  const now = options.now ?? new Date();
  if (chainPem.length === 0) throw untrusted("empty certificate chain");
  const [leaf, ...intermediates] = chainPem.map(parse);
  const roots = options.trustBundlePem.map(parse);
  checkValidity(leaf!, now);
  if (basicConstraints(leaf!)?.ca) throw untrusted(`leaf certificate ${describe(leaf!)} is a CA`);
  let current = leaf!;
  const unused = [...intermediates];
  for (let below = 0; ; below++) {
    const root = await findIssuer(current, roots, now);
    if (root) {
      checkIssuer(root, below, now);
      break;
    }
    const i = await findIssuerIndex(current, unused, now);
    if (i < 0) throw untrusted(`certificate ${describe(current)} is not signed by a trusted root or by another certificate of the chain`);
    const issuer = unused.splice(i, 1)[0]!;
    checkIssuer(issuer, below, now);
    current = issuer;
  }
  const identity = spiffeIdOfCertificate(leaf!);
  if (options.trustDomain !== undefined && identity.trustDomain !== options.trustDomain) {
    throw new IdentityError(
      "ERR_TRUST_DOMAIN_MISMATCH",
      `identity trust domain "${identity.trustDomain}" is not "${options.trustDomain}"`,
    );
  }
  return identity;
}

function parse(input: CertificateInput): x509.X509Certificate {
  return new x509.X509Certificate(input as string);
}

/** `below` is the number of intermediates between this issuer and the leaf. */
function checkIssuer(issuer: x509.X509Certificate, below: number, now: Date): void {
  checkValidity(issuer, now);
  const constraints = basicConstraints(issuer);
  if (!constraints?.ca) throw untrusted(`issuer ${describe(issuer)} is not a CA (basicConstraints CA:true missing)`);
  const usage = issuer.getExtension(x509.KeyUsagesExtension);
  if (usage && !(usage.usages & x509.KeyUsageFlags.keyCertSign)) throw untrusted(`issuer ${describe(issuer)} may not sign certificates (no keyCertSign)`);
  if (constraints.pathLength !== undefined && below > constraints.pathLength) {
    throw untrusted(`issuer ${describe(issuer)} allows ${constraints.pathLength} intermediates below it, the chain has ${below}`);
  }
}

function checkValidity(cert: x509.X509Certificate, now: Date): void {
  if (now < cert.notBefore || now > cert.notAfter) {
    throw untrusted(`certificate ${describe(cert)} is not valid at ${now.toISOString()} (valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()})`);
  }
}

function basicConstraints(cert: x509.X509Certificate): x509.BasicConstraintsExtension | null {
  return cert.getExtension(x509.BasicConstraintsExtension);
}

async function findIssuer(cert: x509.X509Certificate, candidates: x509.X509Certificate[], now: Date) {
  const i = await findIssuerIndex(cert, candidates, now);
  return i < 0 ? undefined : candidates[i];
}

async function findIssuerIndex(cert: x509.X509Certificate, candidates: x509.X509Certificate[], now: Date): Promise<number> {
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    if (c.subject !== cert.issuer) continue;
    if (await cert.verify({ publicKey: c.publicKey, date: now, signatureOnly: true })) return i;
  }
  return -1;
}

function describe(cert: x509.X509Certificate): string {
  return cert.subject || `serial ${cert.serialNumber}`;
}

function untrusted(message: string): IdentityError {
  return new IdentityError("ERR_CERT_UNTRUSTED", message);
}
