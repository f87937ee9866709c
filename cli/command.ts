/**
 * What every `ambit` verb is: a name, a flag table, and a run function that
 * returns its exit code. The help text is generated from the same table the
 * arguments are parsed with, so the two cannot drift.
 *
 * @example
 * ```ts
 * export const versionCommand: Command = {
 *   name: "version", summary: "…", usage: "version [flags]", flags: [OUTPUT_FLAG],
 *   run: async ({ flags, io }) => (io.out("0.1.0\n"), 0),
 * };
 * ```
 * @module
 */
import { type Flags, type FlagSpec, flagsHelp } from "./args.ts";
import type { Io } from "./io.ts";

/** What a command's run function gets. */
export interface CommandInput {
  readonly flags: Flags;
  readonly args: readonly string[];
  readonly io: Io;
}

/** One verb of the CLI. */
export interface Command {
  /** As typed: `proxy-status`. */
  readonly name: string;
  readonly aliases?: readonly string[];
  /** One line for `ambit --help`. */
  readonly summary: string;
  /** After `ambit `: `get <kind> [name] [flags]`. */
  readonly usage: string;
  /** Paragraphs after the usage line. */
  readonly description?: string;
  readonly flags: readonly FlagSpec[];
  readonly examples?: readonly string[];
  /** Does the work; resolves with the exit code. Throws UsageError (exit 2) or anything else (exit 1). */
  run(input: CommandInput): Promise<number>;
}

/** `ambit <verb> --help`. */
export function commandHelp(cmd: Command): string {
  const lines = [`Usage: ambit ${cmd.usage}`, "", cmd.summary];
  if (cmd.description) lines.push("", cmd.description);
  lines.push("", "Flags:", ...flagsHelp(cmd.flags));
  if (cmd.examples?.length) lines.push("", "Examples:", ...cmd.examples.map((e) => `  ${e}`));
  return lines.join("\n") + "\n";
}

/** `ambit --help`: every verb with its summary. */
export function mainHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    "ambit — run and inspect an Ambit mesh (a sidecar-less service mesh in the style of Istio ambient)",
    "",
    "Usage: ambit <command> [flags]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "Run `ambit <command> --help` for a command's flags. Exit codes: 0 ok, 1 failure, 2 usage error.",
    "",
  ].join("\n");
}
