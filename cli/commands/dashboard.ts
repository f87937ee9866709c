// `ambit dashboard`: opens the controlplane's service-graph page (its
// --dashboard-listen; dev mode serves it on 127.0.0.1:20001). Prints the URL,
// checks that the page answers, and hands it to xdg-open when there is a display.
import { spawn } from "node:child_process";
import type { Command } from "../command.ts";

/** Dev mode's dashboard address (Kiali's port). */
export const DEFAULT_DASHBOARD_URL = "http://127.0.0.1:20001/";

export const dashboardCommand: Command = {
  name: "dashboard",
  summary: "open the service-graph page (workloads, services, traffic; Kiali's graph as the model)",
  usage: "dashboard [--url http://127.0.0.1:20001/] [--no-open]",
  description: "The controlplane serves the page on its --dashboard-listen (dev mode: 127.0.0.1:20001); JSON at /api/graph.",
  flags: [
    { name: "url", kind: "string", default: DEFAULT_DASHBOARD_URL, help: "the controlplane's dashboard (env AMBIT_DASHBOARD_URL)" },
    { name: "open", kind: "boolean", default: true, help: "try xdg-open when DISPLAY or WAYLAND_DISPLAY is set (--no-open: only print the URL)" },
  ],
  examples: ["ambit dashboard", "ambit dashboard --url http://127.0.0.1:20001/ --no-open"],
  async run({ flags, io }) {
    const url = String(io.env.AMBIT_DASHBOARD_URL && flags.url === DEFAULT_DASHBOARD_URL ? io.env.AMBIT_DASHBOARD_URL : flags.url);
    try {
      const res = await fetch(new URL("api/graph", url), { signal: AbortSignal.timeout(3000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    } catch (e) {
      io.err(`ambit dashboard: ${url} does not answer (${(e as Error).message}); start the controlplane with --dashboard-listen (npm run dev does)\n`);
      return 1;
    }
    io.out(`Service graph: ${url}\n`);
    if (flags.open && (io.env.DISPLAY || io.env.WAYLAND_DISPLAY)) {
      const child = spawn("xdg-open", [url], { stdio: "ignore", detached: true });
      child.on("error", () => io.err("xdg-open is not installed: open the URL above in a browser\n"));
      child.unref();
    }
    return 0;
  },
};
