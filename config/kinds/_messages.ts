// Error messages in the words a Kubernetes user expects ("must be a string,
// not 80"), used for every zod issue a kind's schema does not word itself.
import type { z } from "zod";

const EXPECTED: Record<string, string> = {
  string: "a string", number: "a number", int: "an integer", boolean: "true or false",
  object: "a map", array: "a list", record: "a map", undefined: "absent",
};

function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a map";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 37) + "..." : v);
  return String(v);
}

/** Per-parse zod error map: pass as `schema.safeParse(data, { error: kindErrorMessage })`. */
export function kindErrorMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "required";
      return `must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${describeValue(issue.input)}`;
    case "invalid_value":
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}, not ${describeValue(issue.input)}`
        : `must be one of ${issue.values.map((v) => String(v)).join(", ")}, not ${describeValue(issue.input)}`;
    case "too_small": {
      const min = Number(issue.minimum);
      if (issue.origin === "array") return min === 1 ? "must not be empty" : `must have at least ${min} items`;
      if (issue.origin === "string") return min === 1 ? "must not be empty" : `must be at least ${min} characters`;
      return `must be at least ${min}, not ${describeValue(issue.input)}`;
    }
    case "too_big": {
      const max = Number(issue.maximum);
      if (issue.origin === "array") return `must have at most ${max} items`;
      if (issue.origin === "string") return `must be at most ${max} characters`;
      return `must be at most ${max}, not ${describeValue(issue.input)}`;
    }
    case "invalid_key": {
      const inner = issue.issues[0];
      return inner?.message ?? `key ${describeValue(issue.input)} is not valid`;
    }
    default:
      return undefined;
  }
}
