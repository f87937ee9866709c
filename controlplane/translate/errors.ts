/** Errors raised while translating config for the data plane. @module */
import { AmbitError } from "../../errors/mod.ts";

export type TranslateErrorCode = "ERR_VIP_RANGE_INVALID" | "ERR_VIP_RANGE_EXHAUSTED";

/** A translation step that cannot go on: a bad VIP range, or one with no address left. */
export class TranslateError extends AmbitError {
  declare readonly code: TranslateErrorCode;
  constructor(code: TranslateErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
