import { x509 } from "./_x509.ts";
import { IdentityError } from "./errors.ts";
import { generateKeyMaterial, type KeyMaterial, WORKLOAD_KEY_ALGORITHM } from "./keys.ts";
import { formatSpiffeId, parseSpiffeId, type SpiffeId } from "./spiffe.ts";

/** OID of the subjectAltName extension; CSRs look extensions up by OID only. */
export const SAN_OID = "2.5.29.17";

/** A CSR for one identity together with the key it was made with. */
export interface CertificateRequest {
  readonly identity: SpiffeId;
  readonly csrPem: string;
  readonly key: KeyMaterial;
}

/**
 * Makes a fresh P-256 key and a CSR carrying exactly one URI SAN: the identity.
 *
 * @example
 * ```ts
 * const req = await createCertificateRequest(parseSpiffeId("spiffe://cluster.local/ns/default/sa/sleep"));
 * ```
 */
export async function createCertificateRequest(identity: SpiffeId): Promise<CertificateRequest> {
  const { csrPem, key } = await createUriCertificateRequest(formatSpiffeId(identity));
  return { identity, csrPem, key };
}

/** What a CA learns from a CSR after checking it. */
export interface CheckedCsr {
  readonly identity: SpiffeId;
  readonly publicKey: x509.PublicKey;
}

/**
 * Parses a PEM CSR and checks what Istio's CA checks: the signature, exactly one
 * SAN and that it is a URI SAN holding a SPIFFE id.
 */
export async function checkCsr(csrPem: string): Promise<CheckedCsr> {
  const { uri, publicKey } = await checkCsrUri(csrPem);
  try {
    return { identity: parseSpiffeId(uri), publicKey };
  } catch (cause) {
    throw new IdentityError("ERR_CSR_INVALID", `CSR SAN: ${(cause as Error).message}`, { cause });
  }
}

/** Checks a CSR's signature and that it carries exactly one SAN, a URI; returns the URI. */
export async function checkCsrUri(csrPem: string): Promise<{ uri: string; publicKey: x509.PublicKey }> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (cause) {
    throw new IdentityError("ERR_CSR_INVALID", "CSR is not a PEM PKCS#10 request", { cause });
  }
  if (!(await csr.verify())) throw new IdentityError("ERR_CSR_INVALID", "CSR signature does not verify");
  const sanExt = csr.getExtension(SAN_OID) as InstanceType<typeof x509.SubjectAlternativeNameExtension> | null;
  const names = sanExt?.names.items ?? [];
  if (names.length !== 1) throw new IdentityError("ERR_CSR_INVALID", `CSR must carry exactly one SAN, found ${names.length}`);
  const san = names[0]!;
  if (san.type !== "url") throw new IdentityError("ERR_CSR_INVALID", `CSR SAN must be a URI, found ${san.type}`);
  return { uri: san.value, publicKey: csr.publicKey };
}

/** Makes a key and a CSR for any URI (a node or the controlplane). */
export async function createUriCertificateRequest(uri: string): Promise<{ csrPem: string; key: KeyMaterial }> {
  const key = await generateKeyMaterial();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys: key.keys,
    signingAlgorithm: WORKLOAD_KEY_ALGORITHM,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: "url", value: uri }], true)],
  });
  return { csrPem: csr.toString("pem"), key };
}
