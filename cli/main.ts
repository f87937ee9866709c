#!/usr/bin/env bun
// `ambit`: reads the verb and its flags, runs the command, and maps the outcome
// to an exit code once: 0 ok, 1 failure, 2 usage error. Each verb lives in
// cli/commands/<verb>.ts.
import { ConfigError } from "../config/errors.ts";
import { parseArgs } from "./args.ts";
import { type Command, commandHelp, mainHelp } from "./command.ts";
import { analyzeCommand } from "./commands/analyze.ts";
import { applyCommand } from "./commands/apply.ts";
import { captureCommand } from "./commands/capture.ts";
import { deleteCommand } from "./commands/delete.ts";
import { dashboardCommand } from "./commands/dashboard.ts";
import { devCommand } from "./commands/dev.ts";
import { getCommand } from "./commands/get.ts";
import { nodeCommand } from "./commands/node.ts";
import { proxyStatusCommand } from "./commands/proxy_status.ts";
import { versionCommand } from "./commands/version.ts";
import { waypointCommand } from "./commands/waypoint.ts";
import { ztunnelConfigCommand } from "./commands/ztunnel_config.ts";
import { printProblems } from "./commands/_report.ts";
import { ControlplaneError, EXIT, UsageError } from "./errors.ts";
import { type Io, processIo } from "./io.ts";

/** Every verb, in the order `ambit --help` lists them. */
export const COMMANDS: readonly Command[] = [
  devCommand, applyCommand, deleteCommand, getCommand, analyzeCommand,
  proxyStatusCommand, ztunnelConfigCommand, waypointCommand, nodeCommand, captureCommand, dashboardCommand, versionCommand,
];

/** Runs `ambit <argv>`; resolves with the exit code. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === "--help" || verb === "-h" || verb === "help") {
    const topic = verb === "help" ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    io.out(topic ? commandHelp(topic) : mainHelp(COMMANDS));
    return verb === undefined ? EXIT.usage : EXIT.ok;
  }
  if (verb === "--version") return main(["version", "--client"], io);
  const command = COMMANDS.find((c) => c.name === verb || c.aliases?.includes(verb));
  if (!command) {
    io.err(`ambit: unknown command "${verb}"\n\n${mainHelp(COMMANDS)}`);
    return EXIT.usage;
  }
  try {
    const { flags, args, help } = parseArgs(rest, command.flags, io.env);
    if (help) {
      io.out(commandHelp(command));
      return EXIT.ok;
    }
    return await command.run({ flags, args, io });
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`ambit ${command.name}: ${e.message}\nRun \`ambit ${command.name} --help\` for usage.\n`);
      return EXIT.usage;
    }
    const problems = e instanceof ConfigError ? e.problems : e instanceof ControlplaneError ? (e.body as { problems?: ConfigError["problems"] })?.problems : undefined;
    if (problems?.length) printProblems(io, problems);
    else io.err(`${io.errColor.red("error:")} ${e instanceof Error && "code" in e ? e.message : (e as Error)?.stack ?? e}\n`);
    return EXIT.failure;
  }
}

if (import.meta.main && process.env.AMBIT_SAMPLE_APP) {
  // The compiled binary doubles as the dev mode's sample apps (cli/dev/embedded_samples.ts).
  await (await import("./dev/embedded_samples.ts")).runSampleApp(process.env.AMBIT_SAMPLE_APP);
} else if (import.meta.main) {
  // Not process.exit(): Bun drops stdout still queued for a slow pipe. The
  // unref'd timer ends the process only if some handle would keep it alive.
  process.exitCode = await main(process.argv.slice(2), processIo());
  setTimeout(() => process.exit(), 2000).unref();
}
