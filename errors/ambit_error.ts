/**
 * The base of every error Ambit raises on purpose. `code` is stable across
 * releases so callers can `switch (err.code)`; the message names what failed
 * and the value that made it fail.
 *
 * @example
 * ```ts
 * try { parseSpiffeId("spiffe://td/ns/x") } catch (e) {
 *   if (e instanceof AmbitError && e.code === "ERR_SPIFFE_ID_INVALID") { ... }
 * }
 * ```
 */
export class AmbitError extends Error {
  /** Stable machine-readable code, e.g. `ERR_HBONE_CONNECT`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}
