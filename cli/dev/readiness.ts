/**
 * Waiting for what `ambit dev` started to be ready, by asking it — the
 * controlplane's /healthz/ready, each ztunnel's :15021/healthz/ready, each
 * app's listening socket — never by sleeping a fixed time. Each wait has a
 * deadline and gives up at once if the process exits.
 *
 * @example
 * ```ts
 * await waitUntil("ztunnel node-a", () => httpReady("http://127.0.10.1:15021/healthz/ready"), { child, timeoutMs: 30_000 });
 * ```
 * @module
 */
import * as net from "node:net";
import { CommandError } from "../errors.ts";
import type { Child } from "./supervisor.ts";

/** Polls `probe` every 100 ms until it resolves true; throws at the deadline or when `child` exits. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, options: { child?: Child; timeoutMs: number }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let exited: number | string | undefined;
  options.child?.exited.then((code) => (exited = code));
  for (;;) {
    if (exited !== undefined) throw new ChildFailed(options.child!, `${what} exited (${exited}) before it was ready`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      if (options.child) throw new ChildFailed(options.child, `${what} was not ready within ${options.timeoutMs / 1000} s`);
      throw new CommandError(`${what} was not ready within ${options.timeoutMs / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A child that failed to come up: the message, with the child's last lines for the user. */
export class ChildFailed extends CommandError {
  constructor(readonly child: Child, message: string) {
    super(message);
  }
}

/** GET url answers 200. */
export async function httpReady(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.body?.cancel();
  return res.status === 200;
}

/** Something accepts TCP connections on address:port. */
export function listening(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}
