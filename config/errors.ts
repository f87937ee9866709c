import { AmbitError } from "../errors/mod.ts";

/** One thing wrong with a piece of config, located precisely enough to fix it. */
export interface ConfigProblem {
  /** The file it came from (or "<api>", "<stdin>"). */
  readonly file: string;
  /** Document number within a multi-document file, counted from 1. */
  readonly document?: number;
  /** The object, as `Kind namespace/name` when known. */
  readonly object?: string;
  /** Field path in Kubernetes spelling: `spec.rules[0].from[0].source.principals[1]`. */
  readonly field: string;
  readonly message: string;
  /** The line in the file (1-based), where it can be told. */
  readonly line?: number;
}

/** Renders a problem on one line: `file#doc: Kind ns/name: field: message (line N)`. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.document !== undefined ? `${p.file}#${p.document}` : p.file;
  const line = p.line !== undefined && !/\bline \d/.test(p.message) ? ` (line ${p.line})` : "";
  return [where, p.object, p.field || undefined, p.message + line].filter((x) => x !== undefined && x !== "").join(": ");
}

/** Config that cannot be applied: carries every problem found, not just the first. */
export class ConfigError extends AmbitError {
  declare readonly code: "ERR_CONFIG_INVALID";
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super(
      "ERR_CONFIG_INVALID",
      problems.length === 1 ? formatProblem(problems[0]!) : `${problems.length} problems:\n` + problems.map((p) => "  " + formatProblem(p)).join("\n"),
    );
    this.problems = problems;
  }
}

/** Formats a path of keys and indexes in Kubernetes spelling. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(String(part))) out += out ? `.${String(part)}` : String(part);
    else out += `[${String(part)}]`;
  }
  return out;
}
