/**
 * Command-line flags backed by environment variables, defined once in a table
 * that also produces `--help`. Flags win over the environment, which wins over
 * the default. Every service's main.ts uses this.
 *
 * @module
 */
import type { z } from "zod";

/** One option: its flag, environment variable, kind, default and help. */
export interface OptionSpec {
  readonly flag: string;
  readonly env?: string;
  readonly kind: "string" | "number" | "boolean";
  readonly default?: string | number | boolean;
  readonly help: string;
}

/** A bad flag or environment value; main prints it and exits 2. */
export class FlagError extends Error {}

/** Reads argv and env into raw values keyed like `options`, then validates them with `schema`. */
export function parseFlags<S extends z.ZodType>(
  options: Readonly<Record<string, OptionSpec>>,
  schema: S,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  fill: (raw: Record<string, unknown>) => void = () => {},
): Readonly<z.output<S>> {
  const raw: Record<string, unknown> = {};
  const byFlag = new Map<string, readonly [string, OptionSpec]>(Object.entries(options).map(([key, spec]) => [spec.flag, [key, spec] as const]));
  for (const [key, spec] of Object.entries(options)) {
    const fromEnv = spec.env ? env[spec.env] : undefined;
    raw[key] = fromEnv !== undefined && fromEnv !== "" ? coerce(spec, fromEnv, `$${spec.env}`) : spec.default;
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) throw new FlagError(`unexpected argument "${arg}"`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const negated = name.startsWith("no-") && byFlag.get(name.slice(3))?.[1].kind === "boolean";
    const entry = byFlag.get(negated ? name.slice(3) : name);
    if (!entry) throw new FlagError(`unknown flag --${name}`);
    const [key, spec] = entry;
    if (spec.kind === "boolean") {
      raw[key] = negated ? false : inline === undefined ? true : coerce(spec, inline, `--${name}`);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new FlagError(`--${name} needs a value`);
    raw[key] = coerce(spec, value, `--${name}`);
  }
  fill(raw);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0]);
    const spec = options[key];
    throw new FlagError(`--${spec?.flag ?? key}${spec?.env ? ` ($${spec.env})` : ""}: ${issue.message}`);
  }
  return Object.freeze(parsed.data) as Readonly<z.output<S>>;
}

function coerce(spec: OptionSpec, value: string, source: string): string | number | boolean {
  if (spec.kind === "number") {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new FlagError(`${source}: "${value}" is not a number`);
    return n;
  }
  if (spec.kind === "boolean") {
    if (/^(1|true|yes|on)$/i.test(value)) return true;
    if (/^(0|false|no|off)$/i.test(value)) return false;
    throw new FlagError(`${source}: "${value}" is not true or false`);
  }
  return value;
}

/** The flags section of a --help text. */
export function flagsHelp(options: Readonly<Record<string, OptionSpec>>): string[] {
  return [
    ...Object.values(options).map((o) => {
      const flag = `--${o.flag}${o.kind === "boolean" ? "" : " <" + o.kind + ">"}`;
      const extra = [o.env ? `$${o.env}` : "", o.default !== undefined ? `default ${o.default}` : ""].filter(Boolean).join(", ");
      return `  ${flag.padEnd(30)} ${o.help}${extra ? ` [${extra}]` : ""}`;
    }),
    "  --help                         show this help",
  ];
}
