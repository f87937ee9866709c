/**
 * SPIFFE identities, keys, CSRs, the certificate authority, chain checks and
 * renewal: everything Ambit knows about who a workload is.
 *
 * @module
 */
export * from "./spiffe.ts";
export * from "./errors.ts";
export * from "./keys.ts";
export * from "./csr.ts";
export * from "./pem.ts";
export * from "./certificate_authority.ts";
export * from "./workload_certificate.ts";
export * from "./verify.ts";
export * from "./renewal.ts";
export * from "./system_identity.ts";
