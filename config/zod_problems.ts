import type { z } from "zod";
import { type ConfigProblem, formatFieldPath } from "./errors.ts";

/**
 * Turns zod's issues into config problems with Kubernetes field paths, prefixing
 * each path with `base` (e.g. `["workloads", 2]`).
 */
export function problemsFromZod(
  error: z.ZodError,
  where: { file: string; document?: number; object?: string },
  base: readonly PropertyKey[] = [],
): ConfigProblem[] {
  return error.issues.map((issue) => {
    const path = [...base, ...issue.path];
    let message = issue.message;
    if (issue.code === "unrecognized_keys") {
      const keys = (issue as { keys: string[] }).keys;
      message = `unknown field${keys.length > 1 ? "s" : ""} ${keys.map((k) => `"${k}"`).join(", ")}`;
    }
    return { ...where, field: formatFieldPath(path), message };
  });
}
