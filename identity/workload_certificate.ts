import { x509 } from "./_x509.ts";
import { parseSpiffeId, type SpiffeId } from "./spiffe.ts";
import { IdentityError } from "./errors.ts";
import { SAN_OID } from "./csr.ts";

/** A certificate an identity holds: leaf-first chain, its key, and the roots it trusts. */
export interface WorkloadCertificate {
  readonly identity: SpiffeId;
  /** Leaf first, root last. */
  readonly chainPem: readonly string[];
  readonly privateKeyPem: string;
  /** Roots the holder trusts for its peers. */
  readonly trustBundlePem: readonly string[];
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Summary of a leaf certificate's identity and validity. */
export interface LeafSummary {
  readonly identity: SpiffeId;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Reads the SPIFFE id and validity of a leaf certificate. */
export function summarizeLeaf(pem: string): LeafSummary {
  const cert = new x509.X509Certificate(pem);
  return {
    identity: spiffeIdOfCertificate(cert),
    serialNumber: cert.serialNumber,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  };
}

/** The one URI SAN of a certificate, parsed as a SPIFFE id. */
export function spiffeIdOfCertificate(cert: x509.X509Certificate): SpiffeId {
  const uris = (cert.getExtension(SAN_OID) as InstanceType<typeof x509.SubjectAlternativeNameExtension> | null)?.names.items.filter((n) => n.type === "url") ?? [];
  if (uris.length !== 1) {
    throw new IdentityError("ERR_CERT_UNTRUSTED", `certificate must carry exactly one URI SAN, found ${uris.length}`);
  }
  return parseSpiffeId(uris[0]!.value);
}
