/** Log levels, lowest first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Options for {@link Logger}. */
export interface LoggerOptions {
  readonly level?: LogLevel;
  /** "text" (key=value, like ztunnel) or "json" (one object per line). */
  readonly format?: "text" | "json";
  /** Where lines go; stderr by default. */
  readonly write?: (line: string) => void;
}

/**
 * A structured logger: a message, a scope and fields, written as ztunnel-style
 * `key=value` text or as JSON lines. Its level can change at run time (admin `/logging`).
 */
export class Logger {
  level: LogLevel;
  readonly format: "text" | "json";
  readonly #write: (line: string) => void;
  readonly #taps = new Map<string, ((message: string, fields: Record<string, unknown>) => void)[]>();

  constructor(options: LoggerOptions = {}) {
    this.level = options.level ?? "info";
    this.format = options.format ?? "text";
    this.#write = options.write ?? ((line) => process.stderr.write(line + "\n"));
  }

  debug(scope: string, message: string, fields: Record<string, unknown> = {}): void {
    this.log("debug", scope, message, fields);
  }
  info(scope: string, message: string, fields: Record<string, unknown> = {}): void {
    this.log("info", scope, message, fields);
  }
  warn(scope: string, message: string, fields: Record<string, unknown> = {}): void {
    this.log("warn", scope, message, fields);
  }
  error(scope: string, message: string, fields: Record<string, unknown> = {}): void {
    this.log("error", scope, message, fields);
  }

  /** Calls `fn` with every record of `scope`, whatever the level (the access-log ring). */
  tap(scope: string, fn: (message: string, fields: Record<string, unknown>) => void): void {
    this.#taps.set(scope, [...(this.#taps.get(scope) ?? []), fn]);
  }

  log(level: LogLevel, scope: string, message: string, fields: Record<string, unknown>): void {
    for (const fn of this.#taps.get(scope) ?? []) fn(message, fields);
    if (LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(this.level)) return;
    const time = new Date().toISOString();
    if (this.format === "json") {
      this.#write(JSON.stringify({ time, level, scope, message, ...fields }));
      return;
    }
    const rendered = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${formatValue(v)}`)
      .join(" ");
    this.#write(`${time}\t${level}\t${scope}\t${message}${rendered ? "\t" + rendered : ""}`);
  }
}

function formatValue(v: unknown): string {
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return /^[\w./:@-]+$/.test(s) ? s : JSON.stringify(s);
}
