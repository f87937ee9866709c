// What the sample apps share: `--key value` arguments, listening, and a clean
// exit on SIGTERM or SIGINT. Plain node:* APIs, so Bun, Deno and Node run them.
import type * as http from "node:http";

/** `--key value` pairs, with defaults for the ones left out. */
export function sampleArgs<K extends string>(argv: readonly string[], defaults: Record<K, string>): Record<K, string> {
  const out: Record<string, string> = { ...defaults };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]!.replace(/^--/, "");
    if (!(key in defaults) || argv[i + 1] === undefined) {
      console.error(`unknown or incomplete argument ${argv[i]}; known: ${Object.keys(defaults).map((k) => `--${k}`).join(" ")}`);
      process.exit(2);
    }
    out[key] = argv[i + 1]!;
  }
  return out as Record<K, string>;
}

/** Listens, logs `ready`, and exits 0 on SIGTERM/SIGINT once open requests are done. */
export function serveUntilSignalled(server: http.Server, address: string, port: number, ready: string): void {
  server.on("error", (e) => {
    console.error(`cannot listen on ${address}:${port}: ${e.message}`);
    process.exit(1);
  });
  server.listen(port, address, () => console.log(ready));
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections?.();
    setTimeout(() => process.exit(0), 1000).unref?.();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
