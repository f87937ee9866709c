/**
 * The child processes of `ambit dev`: each started with its output appended to
 * its own log file (and its last lines kept for error messages), watched for
 * unexpected exits — a restartable one is started again with backoff — and
 * stopped together: SIGTERM, a grace period, then SIGKILL for what is left,
 * waiting until every one has exited.
 *
 * @example
 * ```ts
 * const sup = new Supervisor((child, code) => console.error(`${child.name} exited ${code}`));
 * sup.start({ name: "node-a", role: "ztunnel", ...launch, logFile: ".ambit/logs/node-a.log" });
 * await sup.stopAll(5000);
 * ```
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Launch } from "./launcher.ts";

/** One running child. */
export interface Child {
  readonly name: string;
  readonly role: string;
  readonly pid: number;
  readonly logFile: string;
  /** Its arguments, as its command line shows them (for dev.json). */
  readonly command: string;
  readonly process: ChildProcess;
  /** Resolves with the exit code (or the signal that ended it). */
  readonly exited: Promise<number | string>;
  /** The last lines it wrote. */
  tail(lines?: number): string[];
}

/** How a restartable child is started again: after 1 s, doubling to 30 s; back to 1 s once it stayed up 30 s. */
export const RESTART_BACKOFF = { firstMs: 1_000, maxMs: 30_000, stableMs: 30_000 } as const;

type Spec = Launch & { name: string; role: string; logFile: string };

/** What the supervisor says of a child that exited on its own. */
export interface ExitReport {
  /** Set when the child will be started again, after this long. */
  readonly restartInMs?: number;
}

/** Starts children and stops them all. */
export class Supervisor {
  readonly children: Child[] = [];
  #stopping = false;
  /** Children stopped on purpose (a deleted waypoint): their exit is no failure. */
  readonly #ended = new Set<Child>();

  /**
   * `onExit` hears of every child that exits while the supervisor is not
   * stopping; `onRestart` of each restarted one (its pid is new).
   */
  constructor(
    private readonly onExit: (child: Child, code: number | string, report: ExitReport) => void,
    private readonly onRestart: (child: Child) => void = () => {},
  ) {}

  get stopping(): boolean {
    return this.#stopping;
  }

  /** Starts a child; a `restartable` one that exits on its own is started again with {@link RESTART_BACKOFF}. */
  start(spec: Spec, options: { restartable?: boolean } = {}): Child {
    return this.#spawn(spec, options.restartable ? { delayMs: RESTART_BACKOFF.firstMs } : undefined);
  }

  #spawn(spec: Spec, restart: { delayMs: number } | undefined, replacing?: Child): Child {
    const startedAt = Date.now();
    fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
    const log = fs.createWriteStream(spec.logFile, { flags: "a" });
    log.write(`--- ${new Date().toISOString()} ${spec.cmd} ${spec.args.join(" ")}\n`);
    const proc = spawn(spec.cmd, [...spec.args], { env: { ...process.env, ...spec.env }, stdio: ["ignore", "pipe", "pipe"] });
    const recent: string[] = [];
    let partial = "";
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      const parts = (partial + chunk.toString()).split("\n");
      partial = parts.pop()!;
      recent.push(...parts);
      if (recent.length > 200) recent.splice(0, recent.length - 200);
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", onData);
    const exited = new Promise<number | string>((resolve) => {
      proc.on("error", (e) => {
        recent.push(`cannot start ${spec.cmd}: ${e.message}`);
        resolve(`error: ${e.message}`);
      });
      proc.on("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
    });
    const child: Child = {
      name: spec.name,
      role: spec.role,
      pid: proc.pid ?? -1,
      logFile: spec.logFile,
      command: spec.args.join(" "),
      process: proc,
      exited,
      tail: (n = 15) => [...recent, ...(partial ? [partial] : [])].slice(-n),
    };
    exited.then((code) => {
      log.end();
      // A terminal's Ctrl-C reaches the children too; give our own handler a moment to say so.
      if (this.#stopping || this.#ended.has(child)) return;
      setTimeout(() => {
        if (this.#stopping || this.#ended.has(child)) return;
        if (!restart) return this.onExit(child, code, {});
        const delayMs = Date.now() - startedAt >= RESTART_BACKOFF.stableMs ? RESTART_BACKOFF.firstMs : restart.delayMs;
        this.onExit(child, code, { restartInMs: delayMs });
        setTimeout(() => {
          if (this.#stopping) return;
          const next = this.#spawn(spec, { delayMs: Math.min(delayMs * 2, RESTART_BACKOFF.maxMs) }, child);
          this.onRestart(next);
        }, delayMs);
      }, 300);
    });
    const at = replacing ? this.children.indexOf(replacing) : -1;
    if (at >= 0) this.children[at] = child;
    else this.children.push(child);
    return child;
  }

  /** Stops every child: SIGTERM, up to `graceMs`, then SIGKILL; resolves once all have exited. */
  async stopAll(graceMs: number): Promise<{ killed: string[] }> {
    this.#stopping = true;
    const running = this.children.filter((c) => c.process.exitCode === null && c.process.signalCode === null);
    for (const c of running) signal(c, "SIGTERM");
    const killed: string[] = [];
    const deadline = new Promise<void>((r) => setTimeout(r, graceMs));
    await Promise.all(running.map(async (c) => {
      const done = await Promise.race([c.exited.then(() => true), deadline.then(() => false)]);
      if (!done) {
        killed.push(c.name);
        signal(c, "SIGKILL");
        await c.exited;
      }
    }));
    return { killed };
  }

  /** Stops one child on purpose: SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(child: Child, graceMs: number): Promise<void> {
    this.#ended.add(child);
    signal(child, "SIGTERM");
    const done = await Promise.race([child.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), graceMs))]);
    if (!done) {
      signal(child, "SIGKILL");
      await child.exited;
    }
    const i = this.children.indexOf(child);
    if (i >= 0) this.children.splice(i, 1);
  }

  /** Ends every child at once (a second Ctrl-C). */
  killAll(): void {
    this.#stopping = true;
    for (const c of this.children) signal(c, "SIGKILL");
  }
}

// process.kill by pid: Deno reports a child it signalled through child.kill() as
// killed by that signal even when the child exits 0 (see testing/processes.ts).
function signal(c: Child, sig: NodeJS.Signals): void {
  if (c.pid <= 0 || c.process.exitCode !== null || c.process.signalCode !== null) return;
  try {
    process.kill(c.pid, sig);
  } catch {
    // already gone
  }
}
