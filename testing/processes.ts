import { spawn, type ChildProcess } from "node:child_process";

/** A child process whose output lines the test can wait on. */
export interface TestProcess {
  readonly child: ChildProcess;
  readonly lines: string[];
  /** Resolves with the first line (past, from index `from`, or future) matching, or rejects at the deadline. */
  waitForLine(match: RegExp | string, timeoutMs?: number, from?: number): Promise<string>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

/** Starts a process, capturing stdout and stderr line by line. */
export function startProcess(cmd: string, args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): TestProcess {
  const child = spawn(cmd, args, { env: { ...process.env, ...options.env }, cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const onChunk = (() => {
    let partial = "";
    return (chunk: Buffer) => {
      partial += chunk.toString();
      const parts = partial.split("\n");
      partial = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (process.env.AMBIT_TEST_VERBOSE) console.error(`[${cmd.split("/").pop()}] ${line}`);
        for (const w of [...waiters]) {
          if (w.re.test(line)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    };
  })();
  child.stdout!.on("data", onChunk);
  child.stderr!.on("data", onChunk);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    // process.kill, not child.kill: Deno's child_process reports a child it
    // signalled itself as killed by the signal even when the child exits 0.
    kill: (signal = "SIGTERM") => {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(child.pid, signal);
        } catch { /* already gone */ }
      }
    },
    waitForLine(match, timeoutMs = 15_000, from = 0) {
      const re = typeof match === "string" ? new RegExp(match.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : match;
      const seen = lines.slice(from).find((l) => re.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${re} within ${timeoutMs} ms; output:\n${lines.slice(-30).join("\n")}`)), timeoutMs);
        waiters.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) });
        exited.then((code) => reject(new Error(`process exited (${code ?? child.signalCode}) before a line matching ${re}; output:\n${lines.slice(-30).join("\n")}`)));
      });
    },
  };
}

/** Runs a command to completion, returning its exit code and output. */
export function runCommand(cmd: string, args: string[], options: { env?: Record<string, string>; cwd?: string; input?: string; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...options.env }, cwd: options.cwd, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}
