// Defensive readers for the `spec` and `status` of validated objects: the
// schemas live elsewhere, so translation never trusts a shape it did not check.
import { isIP } from "node:net";
import type { KubeObject } from "../../config/objects.ts";

export type Labels = Readonly<Record<string, string>>;
export type Json = Readonly<Record<string, unknown>>;

/** The value as a plain object, or an empty one. */
export function rec(v: unknown): Json {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {};
}

/** The value as an array, or an empty one. */
export function arr(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}

/** The value as a string, or undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** The string entries of an array (`["a", 1, "b"]` → `["a", "b"]`); numbers become strings. */
export function strings(v: unknown): string[] {
  return arr(v).flatMap((x) => (typeof x === "string" ? [x] : typeof x === "number" ? [String(x)] : []));
}

/** A string-to-string map (labels, selectors), dropping non-string values. */
export function labelMap(v: unknown): Labels {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(rec(v))) if (typeof val === "string") out[k] = val;
  return out;
}

/** An object's `spec`, read defensively. */
export function spec(o: KubeObject): Json {
  return rec(o.spec);
}

/** An object's `status`, read defensively. */
export function status(o: KubeObject): Json {
  return rec(o.status);
}

/** An object's `metadata.labels`, or none. */
export function labelsOf(o: KubeObject): Labels {
  return o.metadata.labels ?? {};
}

/** A port number in 1..65535 from a number or a decimal string, else undefined. */
export function portNumber(v: unknown): number | undefined {
  const n = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : undefined;
}

/** True when every label of a non-empty selector is on `labels`. An empty selector selects nothing. */
export function selectsNonEmpty(selector: Labels, labels: Labels): boolean {
  const keys = Object.keys(selector);
  return keys.length > 0 && keys.every((k) => labels[k] === selector[k]);
}

/** True for a literal IPv4 or IPv6 address. */
export function isAddress(v: string): boolean {
  return isIP(v) !== 0;
}
