/**
 * `-f <file|dir|->`: reads config the way `kubectl apply -f` does (a file, the
 * .yaml/.yml/.json files of a directory in name order, or stdin) and parses
 * each with the controlplane's own intake, so errors name file, object and
 * field before anything is sent.
 *
 * @example
 * ```ts
 * const { objects, problems } = readDocuments(["samples/"], io, { defaultNamespace: "demo" });
 * ```
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError, type ConfigProblem } from "../config/errors.ts";
import { parseConfig } from "../config/intake.ts";
import type { KubeObject } from "../config/objects.ts";
import type { FlagSpec } from "./args.ts";
import { UsageError } from "./errors.ts";
import type { Io } from "./io.ts";

/** `-f, --filename`: repeatable. */
export const FILENAME_FLAG: FlagSpec = { name: "filename", short: "f", kind: "list", placeholder: "file|dir|-", help: "a YAML/JSON file, a directory of them, or - for stdin" };

/** An object and the file it came from. */
export interface SourcedObject {
  readonly file: string;
  readonly object: KubeObject;
}

/** What reading the inputs produced: every object that parsed, every problem and warning. */
export interface ReadResult {
  readonly objects: SourcedObject[];
  readonly problems: ConfigProblem[];
  readonly warnings: ConfigProblem[];
}

/** The files behind the `-f` arguments, with their text. */
export function readInputs(names: readonly string[], io: Pick<Io, "readStdin">): { file: string; text: string }[] {
  if (names.length === 0) throw new UsageError("no input: pass -f <file|dir|->");
  const inputs: { file: string; text: string }[] = [];
  for (const name of names) {
    if (name === "-") {
      inputs.push({ file: "<stdin>", text: io.readStdin() });
      continue;
    }
    let stat: fs.Stats;
    try {
      stat = fs.statSync(name);
    } catch {
      throw new UsageError(`-f ${name}: no such file or directory`);
    }
    const files = stat.isDirectory()
      ? fs.readdirSync(name).filter((f) => /\.(ya?ml|json)$/i.test(f)).sort().map((f) => path.join(name, f))
      : [name];
    if (files.length === 0) throw new UsageError(`-f ${name}: the directory has no .yaml, .yml or .json files`);
    for (const file of files) inputs.push({ file, text: fs.readFileSync(file, "utf8") });
  }
  return inputs;
}

/** Reads and parses every input; one bad file does not hide the problems of the others. */
export function readDocuments(names: readonly string[], io: Pick<Io, "readStdin">, options: { defaultNamespace?: string } = {}): ReadResult {
  const result: ReadResult = { objects: [], problems: [], warnings: [] };
  for (const { file, text } of readInputs(names, io)) {
    try {
      const parsed = parseConfig(text, file, { defaultNamespace: options.defaultNamespace });
      result.objects.push(...parsed.objects.map((object) => ({ file, object })));
      result.warnings.push(...parsed.warnings);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      result.problems.push(...e.problems);
    }
  }
  return result;
}

/** The file name the controlplane should quote: the only file, or a list of them. */
export function sourceName(objects: readonly SourcedObject[]): string {
  const files = [...new Set(objects.map((o) => o.file))];
  return files.length === 1 ? files[0]! : files.join(",");
}
