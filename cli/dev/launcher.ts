/**
 * How `ambit dev` starts a program on the runtime it runs on (process.execPath):
 * from a checkout, `bun <file>` or `deno run -A <file>`; from the compiled
 * `dist/ambit`, the `dist/controlplane`, `dist/ztunnel` and `dist/waypoint` binaries beside it,
 * and the sample apps and demo.yaml from inside the binary (embedded_samples.ts).
 *
 * @example
 * ```ts
 * const { cmd, args, env } = serviceCommand("ztunnel", ["--node", "node-a"]);
 * ```
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CommandError } from "../errors.ts";

declare const Deno: { execPath(): string } | undefined;

const here = import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname);
/** True inside a `bun build --compile` binary, whose modules live in a virtual file system. */
const compiled = /\$bunfs|~BUN/.test(import.meta.url);
const isDeno = typeof Deno !== "undefined";
/** The checkout this CLI runs from (undefined when compiled). */
const repoRoot = compiled ? undefined : path.resolve(here, "..", "..");

/** A program to spawn. */
export interface Launch {
  readonly cmd: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

function runFile(file: string, args: readonly string[]): Launch {
  if (isDeno) return { cmd: Deno!.execPath(), args: ["run", "-A", file, ...args] };
  return { cmd: process.execPath, args: [file, ...args] };
}

/** The controlplane, a ztunnel or a waypoint. */
export function serviceCommand(service: "controlplane" | "ztunnel" | "waypoint", args: readonly string[]): Launch {
  if (repoRoot) return runFile(path.join(repoRoot, service, "main.ts"), args);
  const binary = path.join(path.dirname(process.execPath), service);
  if (!fs.existsSync(binary)) throw new CommandError(`${binary} not found: ambit dev needs the ${service} binary beside ambit (npm run build makes them all)`);
  return { cmd: binary, args };
}

/** The directory holding demo.yaml and apps/ in a checkout. */
function samplesDir(): string {
  const candidates = [path.join(repoRoot!, "samples")];
  const found = candidates.find((d) => fs.existsSync(path.join(d, "demo.yaml")));
  if (!found) throw new CommandError(`the samples are not found (looked in ${candidates.join(", ")}); pass --no-samples`);
  return found;
}

/** samples/demo.yaml: from the checkout, or as embedded in the compiled binary. */
export async function demoConfig(): Promise<{ text: string; file: string }> {
  if (compiled) return { text: (await import("./embedded_samples.ts")).demoYaml, file: "samples/demo.yaml" };
  const file = path.join(samplesDir(), "demo.yaml");
  return { text: fs.readFileSync(file, "utf8"), file };
}

/** A sample app from samples/apps/ (the compiled binary runs its embedded copy: AMBIT_SAMPLE_APP). */
export function sampleAppCommand(script: string, args: readonly string[]): Launch {
  if (compiled) return { cmd: process.execPath, args, env: { AMBIT_SAMPLE_APP: script } };
  return runFile(path.join(samplesDir(), "apps", script), args);
}

/** How to run `ambit` again, as the user can type it in the checkout. */
export function cliHint(): string {
  if (compiled) return process.execPath;
  return isDeno ? "deno task ambit" : "npx ambit";
}
