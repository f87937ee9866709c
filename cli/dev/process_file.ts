/**
 * `<state-dir>/dev.json`: the pids `ambit dev` is running, written once all are
 * started and removed after a clean stop. A later run reads it to refuse to
 * start twice and to end what a killed run left behind — only processes whose
 * command line still is the recorded one, so a reused pid is never touched.
 *
 * @example
 * ```ts
 * const leftovers = readLeftovers(plan.processFile);
 * ```
 * @module
 */
import * as fs from "node:fs";

/** A recorded process. */
export interface RecordedProcess {
  readonly name: string;
  readonly pid: number;
  /** A piece of its command line that identifies it (its entry file and first flags). */
  readonly command: string;
}

export interface ProcessFile {
  readonly pid: number;
  readonly command: string;
  readonly startedAt: string;
  readonly processes: readonly RecordedProcess[];
}

export function writeProcessFile(file: string, content: ProcessFile): void {
  fs.writeFileSync(file, JSON.stringify(content, null, 2) + "\n");
}

export function removeProcessFile(file: string): void {
  fs.rmSync(file, { force: true });
}

/** The recorded processes still running as recorded (Linux /proc; elsewhere none can be confirmed). */
export function readLeftovers(file: string): { supervisor?: RecordedProcess; processes: RecordedProcess[] } {
  let content: ProcessFile;
  try {
    content = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return { processes: [] };
  }
  const supervisor = { name: "ambit dev", pid: content.pid, command: content.command };
  return {
    supervisor: stillRunning(supervisor) ? supervisor : undefined,
    processes: content.processes.filter(stillRunning),
  };
}

/** This process's command line as /proc shows it (what {@link stillRunning} compares), or argv elsewhere. */
export function ownCommandLine(): string {
  try {
    return fs.readFileSync("/proc/self/cmdline", "utf8").split("\0").filter(Boolean).join(" ");
  } catch {
    return process.argv.join(" ");
  }
}

/** True when `pid` is alive (not a zombie) and its command line contains the recorded command. */
export function stillRunning(p: RecordedProcess): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${p.pid}/stat`, "utf8");
    if (/\) Z /.test(stat)) return false;
    return fs.readFileSync(`/proc/${p.pid}/cmdline`, "utf8").split("\0").join(" ").includes(p.command);
  } catch {
    return false;
  }
}
