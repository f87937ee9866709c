/**
 * Certificates of a revoked node, refused by serial until they expire. The
 * controlplane sends the serials in the TrustBundle (`revokedSerials`, lower-case
 * hex without leading zeros); a TLS stack may print a serial in upper case, with
 * leading zeros or with colons, so both sides are normalised before comparing.
 *
 * @example
 * ```ts
 * const revoked = revokedSerialSet(["1a2b"]);
 * checkRevokedSerial("001A2B", revoked); // { revoked: true, serial: "1a2b" }
 * ```
 * @module
 */

/** A serial in the TrustBundle's form: lower-case hex, no separators, no leading zeros ("0" for zero). */
export function normaliseSerial(serial: string): string {
  const hex = serial.replace(/[:\s]/g, "").toLowerCase().replace(/^0+/, "");
  return hex === "" ? "0" : hex;
}

/** The set to check against, built once per TrustBundle update. */
export function revokedSerialSet(serials: Iterable<string>): ReadonlySet<string> {
  return new Set([...serials].map(normaliseSerial));
}

/** The verdict on one peer certificate. */
export type RevocationVerdict = { readonly revoked: false } | { readonly revoked: true; readonly serial: string };

/**
 * Is the peer's certificate revoked? A peer whose stack exposed no serial is not
 * refused here: it was verified up to our roots, and revocation is an addition.
 */
export function checkRevokedSerial(serial: string | undefined, revoked: ReadonlySet<string>): RevocationVerdict {
  if (serial === undefined || revoked.size === 0) return { revoked: false };
  const normal = normaliseSerial(serial);
  return revoked.has(normal) ? { revoked: true, serial: normal } : { revoked: false };
}
