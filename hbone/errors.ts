import { AmbitError } from "../errors/mod.ts";

/** Codes raised by the HBONE module. */
export type HboneErrorCode =
  | "ERR_HBONE_CONNECT"
  | "ERR_HBONE_PEER_IDENTITY"
  | "ERR_HBONE_PEER_REVOKED"
  | "ERR_HBONE_STATUS"
  | "ERR_HBONE_BAD_REQUEST"
  | "ERR_HBONE_DENIED"
  | "ERR_HBONE_UPSTREAM";

/** The HTTP status each server-side failure maps to on the wire. */
export type HboneStatus = 400 | 401 | 503;

/** A tunnel failure. */
export class HboneError extends AmbitError {
  declare readonly code: HboneErrorCode;
  constructor(code: HboneErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * A refusal with the status it maps to: thrown by the server's connect hook
 * (401 when policy denies, 503 when the upstream cannot be reached), and by the
 * client when the server answers something other than 200.
 */
export class HboneStatusError extends HboneError {
  readonly status: number;
  constructor(code: HboneErrorCode, status: number, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
  }
}

/** 401: the connection is authenticated but policy does not allow it. */
export function deniedError(message: string): HboneStatusError {
  return new HboneStatusError("ERR_HBONE_DENIED", 401, message);
}

/** 503: no upstream could be reached for the tunnel. */
export function upstreamError(message: string, cause?: unknown): HboneStatusError {
  return new HboneStatusError("ERR_HBONE_UPSTREAM", 503, message, { cause });
}

/** 400: the CONNECT request itself is malformed or names no known destination. */
export function badRequestError(message: string): HboneStatusError {
  return new HboneStatusError("ERR_HBONE_BAD_REQUEST", 400, message);
}
