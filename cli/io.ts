/**
 * Where a command writes and what it may assume about the terminal: colour
 * only when the stream is a TTY (and NO_COLOR is unset), progress only for work
 * that takes more than a second. Tests hand commands a captured {@link Io}.
 *
 * @example
 * ```ts
 * const io = processIo();
 * const objects = await io.progress("fetching objects", client.list());
 * io.out(io.color.green("ok") + "\n");
 * ```
 * @module
 */
import { readFileSync } from "node:fs";

/** Colour functions; each returns its input unchanged when colour is off. */
export interface Palette {
  readonly enabled: boolean;
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

/** A command's window on the world. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Colours for stdout. */
  readonly color: Palette;
  /** Colours for stderr. */
  readonly errColor: Palette;
  readonly env: Readonly<Record<string, string | undefined>>;
  readStdin(): string;
  /** Resolves with `work`; shows `label` on stderr if it is still running after a second. */
  progress<T>(label: string, work: Promise<T>): Promise<T>;
}

const CODES = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] } as const;

/** A palette: colour only on a TTY, never with NO_COLOR or TERM=dumb, always with FORCE_COLOR (not 0). */
export function palette(isTty: boolean, env: Readonly<Record<string, string | undefined>>): Palette {
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0" && env.FORCE_COLOR !== "";
  const enabled = forced || (isTty && env.NO_COLOR === undefined && env.TERM !== "dumb" && env.FORCE_COLOR !== "0");
  const paint = ([on, off]: readonly [number, number]) => (s: string) => enabled ? `\x1b[${on}m${s}\x1b[${off}m` : s;
  return {
    enabled,
    bold: paint(CODES.bold),
    dim: paint(CODES.dim),
    red: paint(CODES.red),
    green: paint(CODES.green),
    yellow: paint(CODES.yellow),
    cyan: paint(CODES.cyan),
  };
}

/** Shows a spinner (TTY) or one line (otherwise) on stderr once `work` has run for `delayMs`. */
export async function showProgress<T>(label: string, work: Promise<T>, write: (s: string) => void, isTty: boolean, delayMs = 1000): Promise<T> {
  const started = Date.now();
  let frame = 0;
  let shown = false;
  let spinner: ReturnType<typeof setInterval> | undefined;
  const frames = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
  const first = setTimeout(() => {
    shown = true;
    if (!isTty) return write(`${label}…\n`);
    const draw = () => write(`\r\x1b[2K${frames[frame++ % frames.length]} ${label} (${((Date.now() - started) / 1000).toFixed(0)}s)`);
    draw();
    spinner = setInterval(draw, 100);
  }, delayMs);
  try {
    return await work;
  } finally {
    clearTimeout(first);
    clearInterval(spinner);
    if (shown && isTty) write(`\r\x1b[2K`);
  }
}

/** The real process's streams. */
export function processIo(): Io {
  const env = process.env;
  const errTty = Boolean(process.stderr.isTTY);
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    color: palette(Boolean(process.stdout.isTTY), env),
    errColor: palette(errTty, env),
    env,
    readStdin: () => readFileSync(0, "utf8"),
    progress: (label, work) => showProgress(label, work, (s) => void process.stderr.write(s), errTty),
  };
}
