import * as path from "node:path";
declare const Deno: any;

const root = path.resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");

/** The repository root. */
export const repoRoot: string = root;

/**
 * The command that runs a TypeScript entry point on the runtime executing this
 * test, so a Deno run of the suite exercises Deno services.
 */
export function runtimeCommand(entry: string, args: string[] = []): [string, string[]] {
  const file = path.resolve(root, entry);
  if (typeof Deno !== "undefined") return [Deno.execPath(), ["run", "-A", "--no-check", file, ...args]];
  return [process.execPath, ["run", file, ...args]];
}
