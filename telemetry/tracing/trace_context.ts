// W3C Trace Context and Baggage as a proxy reads them from untrusted peers:
// `traceparent` strictly (version 00 form, lower-case hex, no all-zero ids;
// a later version is read by its first four fields, as the spec asks),
// `tracestate` and `baggage` passed on only within the specs' size bounds.
// Anything malformed is ignored — the proxy then starts a new trace — never
// an error: a bad header must not fail a request.

/** One hop's position in a trace: what a `traceparent` carries. */
export interface TraceContext {
  /** 32 lower-case hex digits. */
  readonly traceId: string;
  /** 16 lower-case hex digits: the caller's span, the parent of ours. */
  readonly spanId: string;
  /** The caller's sampling decision (trace-flags bit 0). */
  readonly sampled: boolean;
}

const VERSION_00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const LATER_VERSION = /^(?!ff)([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;

/**
 * Parses a `traceparent` header; undefined when absent or malformed.
 *
 * @example
 * ```ts
 * parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
 * // { traceId: "4bf9…4736", spanId: "00f0…02b7", sampled: true }
 * ```
 */
export function parseTraceparent(value: string | string[] | undefined): TraceContext | undefined {
  if (typeof value !== "string" || value.length > 256) return undefined;
  const v = value.trim();
  let m = VERSION_00.exec(v);
  let traceId: string, spanId: string, flags: string;
  if (m) [, traceId = "", spanId = "", flags = ""] = m;
  else {
    m = LATER_VERSION.exec(v);
    if (!m || m[1] === "00") return undefined;
    [, , traceId = "", spanId = "", flags = ""] = m;
  }
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1 };
}

/** Formats a version-00 `traceparent`. */
export function formatTraceparent(c: TraceContext): string {
  return `00-${c.traceId}-${c.spanId}-${c.sampled ? "01" : "00"}`;
}

/** The spec's limits: 32 list members; 512 characters is what every vendor keeps. */
const TRACESTATE_MAX_MEMBERS = 32;
const TRACESTATE_MAX_CHARS = 512;
const TRACESTATE_MEMBER = /^[a-z0-9][_0-9a-z\-*/]{0,255}(@[a-z0-9][_0-9a-z\-*/]{0,13})?=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/** A `tracestate` header fit to pass on, or undefined when it breaks the spec's syntax or bounds. */
export function boundedTracestate(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value.join(",") : value;
  if (!v || v.length > TRACESTATE_MAX_CHARS) return undefined;
  const members = v.split(",").map((m) => m.trim()).filter((m) => m !== "");
  if (members.length === 0 || members.length > TRACESTATE_MAX_MEMBERS) return undefined;
  return members.every((m) => TRACESTATE_MEMBER.test(m)) ? members.join(",") : undefined;
}

/** W3C Baggage: at most 8192 bytes and 180 members in all. */
const BAGGAGE_MAX_BYTES = 8192;
const BAGGAGE_MAX_MEMBERS = 180;

/** A `baggage` header fit to pass on unchanged, or undefined when over the spec's bounds. */
export function boundedBaggage(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value.join(",") : value;
  if (!v || Buffer.byteLength(v) > BAGGAGE_MAX_BYTES) return undefined;
  if (v.split(",").length > BAGGAGE_MAX_MEMBERS) return undefined;
  // Control characters would be a header-injection vector downstream of us.
  return /[\x00-\x1f\x7f]/.test(v) ? undefined : v;
}
