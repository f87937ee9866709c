// ztunnel's entry point: read flags and environment, start, and turn signals
// into a drain. Everything else is in app.ts.
import { ConfigError } from "../config/errors.ts";
import { startZtunnel } from "./app.ts";
import { loadZtunnelConfig, ZtunnelConfigError, ztunnelHelp } from "./config.ts";

const argv = process.argv.slice(2);
if (argv.includes("--help") || argv.includes("-h")) {
  console.log(ztunnelHelp());
  process.exit(0);
}

try {
  const config = loadZtunnelConfig(argv, process.env);
  const ztunnel = await startZtunnel(config);
  const stop = (signal: string) => {
    ztunnel.log.info("ztunnel", "signal received", { signal });
    void ztunnel.drain().then(() => process.exit(0));
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
} catch (e) {
  if (e instanceof ZtunnelConfigError) {
    console.error(`ztunnel: ${e.message}\nRun with --help for the flags.`);
    process.exit(2);
  }
  if (e instanceof ConfigError) {
    console.error(`ztunnel: invalid config: ${e.message}`);
    process.exit(1);
  }
  console.error(`ztunnel: ${(e as Error).stack ?? e}`);
  process.exit(1);
}
