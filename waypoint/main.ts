// The waypoint's entry point: read flags and environment, start, and turn
// signals into a drain. Everything else is in app.ts.
import { ConfigError } from "../config/errors.ts";
import { startWaypoint } from "./app.ts";
import { loadWaypointConfig, WaypointConfigError, waypointHelp } from "./config.ts";

const argv = process.argv.slice(2);
if (argv.includes("--help") || argv.includes("-h")) {
  console.log(waypointHelp());
  process.exit(0);
}

try {
  const config = loadWaypointConfig(argv, process.env);
  const waypoint = await startWaypoint(config);
  const stop = (signal: string) => {
    waypoint.log.info("waypoint", "signal received", { signal });
    void waypoint.drain().then(() => process.exit(0));
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGHUP", () => waypoint.reload());
} catch (e) {
  if (e instanceof WaypointConfigError) {
    console.error(`waypoint: ${e.message}\nRun with --help for the flags.`);
    process.exit(2);
  }
  if (e instanceof ConfigError) {
    console.error(`waypoint: invalid config: ${e.message}`);
    process.exit(1);
  }
  console.error(`waypoint: ${(e as Error).stack ?? e}`);
  process.exit(1);
}
