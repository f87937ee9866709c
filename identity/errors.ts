import { AmbitError } from "../errors/mod.ts";

/** Codes raised by the identity module. */
export type IdentityErrorCode =
  | "ERR_SPIFFE_ID_INVALID"
  | "ERR_CSR_INVALID"
  | "ERR_CERT_UNTRUSTED"
  | "ERR_TRUST_DOMAIN_MISMATCH"
  | "ERR_CA_LOAD";

/** An identity failure: a bad SPIFFE id, a CSR the CA refuses, an untrusted chain. */
export class IdentityError extends AmbitError {
  declare readonly code: IdentityErrorCode;
  constructor(code: IdentityErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
