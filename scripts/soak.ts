// `npm run soak [-- seconds]`: the endurance run of testing/soak.ts — mixed load
// through two ztunnels joined to a controlplane, a policy and a config change
// each minute, one kill -9 and restart of the controlplane half way. 10 minutes
// unless an argument or SOAK_SECONDS says otherwise. Prints the report; exits 1
// on any error or lost byte. Services run on the runtime running this script
// (`bun scripts/soak.ts`, or `deno run -A --no-check scripts/soak.ts` for Deno).
import { formatSoakReport, runSoak } from "../testing/soak.ts";

const arg = process.argv.slice(2).find((a) => !a.startsWith("-"));
const seconds = Number(arg ?? process.env.SOAK_SECONDS ?? 600);
if (!Number.isFinite(seconds) || seconds < 20) {
  console.error(`soak: want a duration of at least 20 seconds, got ${JSON.stringify(arg ?? process.env.SOAK_SECONDS)}`);
  process.exit(2);
}

const stop = new AbortController();
process.on("SIGINT", () => stop.abort());
console.error(`soak: ${seconds} s; a report every 10 s, Ctrl-C ends the load early and still reports`);
const report = await runSoak({ seconds, signal: stop.signal, log: (l) => console.error(l) });
console.log(formatSoakReport(report));
process.exit(report.errors.total === 0 && report.bytesLost === 0 ? 0 : 1);
