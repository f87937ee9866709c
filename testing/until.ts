/**
 * Polls `check` until it returns a value (anything but undefined or false),
 * or fails at the deadline naming what it waited for: how tests wait on state
 * another process exposes (an admin endpoint) without sleeping blindly.
 *
 * @example
 * ```ts
 * await until("echo at node-a", async () => (await workloads(a)).includes("echo"));
 * ```
 */
export async function until<T>(what: string, check: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
