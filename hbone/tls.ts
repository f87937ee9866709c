import type { PeerCertificate, TLSSocket } from "node:tls";
import { joinPem, parseSpiffeId, type SpiffeId, type WorkloadCertificate } from "../identity/mod.ts";
import { HboneError } from "./errors.ts";

/** HBONE's TLS: 1.3 only, AES-GCM suites, ALPN h2. */
export const HBONE_TLS = {
  minVersion: "TLSv1.3",
  maxVersion: "TLSv1.3",
  ciphers: "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384",
  ALPNProtocols: ["h2"],
} as const;

/** The TLS material a workload presents: its chain and key, trusting its bundle. */
export function tlsCredentials(cert: WorkloadCertificate) {
  return {
    cert: joinPem(cert.chainPem),
    key: cert.privateKeyPem,
    ca: joinPem(cert.trustBundlePem),
  };
}

/**
 * The SPIFFE id in a peer certificate's single URI SAN. TLS has already checked
 * the chain; which identity may connect is policy's business, not this function's.
 */
export function peerIdentityOf(socket: TLSSocket): SpiffeId {
  const cert = socket.getPeerCertificate() as PeerCertificate | undefined;
  return identityFromSubjectAltName(cert?.subjectaltname);
}

/** Parses Node's `subjectaltname` string ("URI:spiffe://…, DNS:…") into the one SPIFFE id. */
export function identityFromSubjectAltName(subjectAltName: string | undefined): SpiffeId {
  const uris = (subjectAltName ?? "").split(/,\s*/).filter((s) => s.startsWith("URI:")).map((s) => s.slice(4));
  if (uris.length !== 1) {
    throw new HboneError("ERR_HBONE_PEER_IDENTITY", `peer certificate must carry exactly one URI SAN, found ${uris.length}`);
  }
  try {
    return parseSpiffeId(uris[0]!);
  } catch (cause) {
    throw new HboneError("ERR_HBONE_PEER_IDENTITY", `peer certificate SAN: ${(cause as Error).message}`, { cause });
  }
}
