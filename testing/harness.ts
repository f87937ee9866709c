/**
 * One test API for Bun and Deno, so the end-to-end suite runs unchanged on both.
 * Assertions come from node:assert, which both runtimes ship.
 *
 * @module
 */
declare const Deno: any;

type TestFn = () => void | Promise<void>;
interface TestOptions {
  /** Milliseconds before the test fails. Default 30 s. */
  timeout?: number;
}

const isDeno = typeof Deno !== "undefined";
const bun = isDeno ? undefined : await import("bun:test");

/** Registers a test. */
export function test(name: string, fn: TestFn, options: TestOptions = {}): void {
  const timeout = options.timeout ?? 30_000;
  if (bun) {
    bun.test(name, fn, timeout);
    return;
  }
  registered++;
  const timed = withTimeout(fn, timeout, name);
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    sanitizeExit: false,
    fn: async () => {
      try {
        await timed();
      } finally {
        // Deno runs tests in registration order and has no afterAll: the last one to finish cleans up.
        if (++finished === registered) for (const f of cleanups.splice(0)) await f();
      }
    },
  });
}

let registered = 0;
let finished = 0;
const cleanups: TestFn[] = [];

/**
 * A test known to fail because of an upstream bug: it must fail, and when it
 * starts passing the run fails so the workaround can be removed.
 */
export function knownFailure(name: string, upstreamBug: string, fn: TestFn, options: TestOptions = {}): void {
  test(`${name} [expected failure: ${upstreamBug}]`, async () => {
    let passed = false;
    try {
      await fn();
      passed = true;
    } catch {
      // the expected outcome while the bug stands
    }
    if (passed) throw new Error(`${name} now passes: ${upstreamBug} looks fixed; turn this back into a plain test`);
  }, options);
}

/** Runs once after every test in the file. */
export function afterAll(fn: TestFn): void {
  if (bun) return bun.afterAll(fn);
  cleanups.push(fn);
}

/** The runtime the suite runs on. */
export const runtime: "bun" | "deno" = isDeno ? "deno" : "bun";

function withTimeout(fn: TestFn, ms: number, name: string): () => Promise<void> {
  return async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        fn(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${name}: timed out after ${ms} ms`)), ms);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };
}
