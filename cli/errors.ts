/**
 * The CLI's errors. main.ts maps them to exit codes once: a usage error exits
 * 2, anything else 1.
 * @module
 */
import { AmbitError } from "../errors/mod.ts";

/** The command line is wrong: unknown flag, missing argument, bad value. Exit 2. */
export class UsageError extends AmbitError {
  declare readonly code: "ERR_CLI_USAGE";
  constructor(message: string) {
    super("ERR_CLI_USAGE", message);
  }
}

/** A command could not do its job (controlplane unreachable, refused, not found). Exit 1. */
export class CommandError extends AmbitError {
  declare readonly code: "ERR_CLI_COMMAND";
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_CLI_COMMAND", message, options);
  }
}

/** The controlplane answered with an error status; `body` is its JSON answer. */
export class ControlplaneError extends AmbitError {
  declare readonly code: "ERR_CLI_CONTROLPLANE";
  constructor(message: string, readonly status: number, readonly body: unknown) {
    super("ERR_CLI_CONTROLPLANE", message);
  }
}

/** Exit codes, as istioctl and kubectl use them. */
export const EXIT = Object.freeze({ ok: 0, failure: 1, usage: 2 });
