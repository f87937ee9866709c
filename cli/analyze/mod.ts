/**
 * `ambit analyze`'s engine: schema problems from the intake become errors, its
 * warnings become infos, and the cross-object checks add warnings.
 *
 * @example
 * ```ts
 * const messages = analyze(readDocuments(["samples/"], io), { trustDomain: "cluster.local", rootNamespace: "istio-system" });
 * ```
 * @module
 */
import type { ReadResult } from "../documents.ts";
import { type AnalysisOptions, CHECKS } from "./checks.ts";
import { type AnalysisMessage, message } from "./messages.ts";

export { type AnalysisOptions } from "./checks.ts";
export { type AnalysisMessage, formatMessage, MESSAGE_KINDS } from "./messages.ts";

const ORDER = { Error: 0, Warning: 1, Info: 2 } as const;

/** Every finding, errors first. */
export function analyze(read: ReadResult, options: AnalysisOptions): AnalysisMessage[] {
  const messages = [
    ...read.problems.map((p) => message("SchemaValidationError", p, p.message)),
    ...read.warnings.map((w) => message("IntakeWarning", w, w.message)),
    ...CHECKS.flatMap((check) => check(read.objects, options)),
  ];
  return messages.map((m, i) => ({ m, i })).sort((a, b) => ORDER[a.m.level] - ORDER[b.m.level] || a.i - b.i).map(({ m }) => m);
}
