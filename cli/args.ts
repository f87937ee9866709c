/**
 * The CLI's flag tables: each command declares its flags once, and the same
 * table parses argv and writes `--help`. Unlike config/flags.ts (services:
 * long flags backed by environment variables) commands also take positional
 * arguments, short flags (`-n`, `-o`, `-f`) and repeated flags (`-f a -f b`).
 *
 * @example
 * ```ts
 * const { flags, args } = parseArgs(["-n", "demo", "pods"], [NAMESPACE_FLAG]);
 * ```
 * @module
 */
import { UsageError } from "./errors.ts";

/** One flag: how it is spelt, what it takes, its default and its help line. */
export interface FlagSpec {
  /** Long name without dashes: `namespace`. Parsed values are keyed by it. */
  readonly name: string;
  /** One letter: `n` for `-n`. */
  readonly short?: string;
  /** `list`: repeatable string flag, collected in order. */
  readonly kind: "string" | "number" | "boolean" | "list";
  readonly default?: string | number | boolean;
  /** Environment variable read when the flag is absent. */
  readonly env?: string;
  /** The only values accepted. */
  readonly values?: readonly string[];
  /** Placeholder in help: `--namespace <ns>`. */
  readonly placeholder?: string;
  readonly help: string;
}

/** Parsed flags, keyed by long name. */
export type Flags = Record<string, string | number | boolean | string[] | undefined>;

/** Reads argv against a flag table; `--` ends the flags. Throws {@link UsageError}. */
export function parseArgs(
  argv: readonly string[],
  table: readonly FlagSpec[],
  env: Readonly<Record<string, string | undefined>> = {},
): { flags: Flags; args: string[]; help: boolean } {
  const byLong = new Map(table.map((f) => [f.name, f]));
  const byShort = new Map(table.filter((f) => f.short).map((f) => [f.short!, f]));
  const flags: Flags = {};
  const args: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (arg === "-" || !arg.startsWith("-")) {
      args.push(arg);
      continue;
    }
    const long = arg.startsWith("--");
    const [name, inline] = (long ? arg.slice(2) : arg.slice(1)).split(/=(.*)/s, 2) as [string, string | undefined];
    let spec = long ? byLong.get(name) : byShort.get(name);
    let negated = false;
    if (!spec && long && name.startsWith("no-") && byLong.get(name.slice(3))?.kind === "boolean") {
      spec = byLong.get(name.slice(3));
      negated = true;
    }
    if (!spec) throw new UsageError(`unknown flag ${long ? "--" : "-"}${name}`);
    if (spec.kind === "boolean") {
      flags[spec.name] = negated ? false : inline === undefined ? true : toBoolean(spec, inline);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${spec.name} needs a value`);
    if (spec.kind === "list") flags[spec.name] = [...((flags[spec.name] as string[] | undefined) ?? []), value];
    else flags[spec.name] = convert(spec, value, `--${spec.name}`);
  }
  for (const spec of table) {
    if (flags[spec.name] !== undefined) continue;
    const fromEnv = spec.env ? env[spec.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== "") {
      flags[spec.name] = spec.kind === "list" ? [fromEnv] : spec.kind === "boolean" ? toBoolean(spec, fromEnv) : convert(spec, fromEnv, `$${spec.env}`);
    } else {
      flags[spec.name] = spec.kind === "list" ? [] : spec.default;
    }
  }
  return { flags, args, help };
}

function convert(spec: FlagSpec, value: string, source: string): string | number {
  if (spec.values && !spec.values.includes(value)) throw new UsageError(`${source}: "${value}" is not one of ${spec.values.join(", ")}`);
  if (spec.kind !== "number") return value;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new UsageError(`${source}: "${value}" is not a number`);
  return n;
}

function toBoolean(spec: FlagSpec, value: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new UsageError(`--${spec.name}: "${value}" is not true or false`);
}

/** The flag lines of a help text, aligned, with defaults and environment variables. */
export function flagsHelp(table: readonly FlagSpec[]): string[] {
  const rows = table.map((f) => {
    const value = f.kind === "boolean" ? "" : ` <${f.placeholder ?? (f.values ? f.values.join("|") : f.kind === "list" ? "value" : f.kind)}>`;
    const left = `${f.short ? `-${f.short}, ` : "    "}--${f.name}${value}`;
    const extra = [
      f.default !== undefined && f.default !== "" ? `default ${f.default}` : "",
      f.env ? `$${f.env}` : "",
      f.kind === "list" ? "repeatable" : "",
    ].filter(Boolean).join(", ");
    return [left, `${f.help}${extra ? ` [${extra}]` : ""}`] as const;
  });
  rows.push(["-h, --help", "show this help"]);
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, r]) => `  ${l.padEnd(width)}${r}`);
}
