// The controlplane's entry point: flags and environment in, a running
// controlplane out, SIGTERM stops it. Everything else is in app.ts.
import { startControlplane } from "./app.ts";
import { ControlplaneConfigError, controlplaneHelp, loadControlplaneConfig } from "./config.ts";

const argv = process.argv.slice(2);
if (argv.includes("--help") || argv.includes("-h")) {
  console.log(controlplaneHelp());
  process.exit(0);
}
try {
  const cp = await startControlplane(loadControlplaneConfig(argv, process.env));
  const stop = () => void cp.stop().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
} catch (e) {
  if (e instanceof ControlplaneConfigError) {
    console.error(`controlplane: ${e.message}\nRun with --help for the flags.`);
    process.exit(2);
  }
  // A typed error (the store unreachable, a CA that differs) says enough in its message.
  console.error(`controlplane: ${e instanceof Error && "code" in e ? e.message : (e as Error).stack ?? e}`);
  process.exit(1);
}
