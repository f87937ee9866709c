// How config commands report: one line per object change, one per problem.
import { type ConfigProblem, formatProblem } from "../../config/errors.ts";
import type { ObjectChange } from "../controlplane_client.ts";
import type { Io } from "../io.ts";

/** `AuthorizationPolicy demo/allow-client created`, coloured by verb. */
export function printChanges(io: Io, changes: readonly ObjectChange[], dryRun: boolean): string {
  const paint = (verb: string) =>
    verb === "created" ? io.color.green(verb) : verb === "deleted" || verb === "not found" ? io.color.yellow(verb) : verb === "configured" ? io.color.cyan(verb) : verb;
  return changes.map((c) => `${c.object} ${paint(c.verb)}${dryRun ? " (dry run)" : ""}\n`).join("");
}

/** Every problem on stderr, one line each: `file#doc: Kind ns/name: field: message`. */
export function printProblems(io: Io, problems: readonly ConfigProblem[]): void {
  for (const p of problems) io.err(`${io.errColor.red("error:")} ${formatProblem(p)}\n`);
}
