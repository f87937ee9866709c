// Bun.serve and Deno.serve both take a fetch handler, which is what Hono gives;
// node:http would need an adapter package. The two differ only in options and
// in how they stop, so this file hides that. Plain HTTP on Deno goes through
// http1_deno.ts instead: Deno.serve puts no deadline on a request head.

import { serveHttp1Deno } from "./http1_deno.ts";

declare const Bun: any;
declare const Deno: any;

/** Which runtime is executing: "bun", "deno" or "node". */
export const runtimeName: "bun" | "deno" | "node" = typeof Bun !== "undefined"
  ? "bun"
  : typeof Deno !== "undefined"
  ? "deno"
  : "node";

/** The runtime's own version string. */
export const runtimeVersion: string = runtimeName === "bun"
  ? Bun.version
  : runtimeName === "deno"
  ? Deno.version.deno
  : process.versions.node;

/** Options for {@link serveHttp}. */
export interface ServeHttpOptions {
  hostname: string;
  port: number;
  fetch: (request: Request) => Response | Promise<Response>;
  tls?: { cert: string; key: string; ca?: string; requestCert?: boolean };
}

/** A running HTTP listener. */
export interface HttpServer {
  readonly hostname: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Serves a fetch handler (a Hono app's `fetch`) on hostname:port. */
export function serveHttp(options: ServeHttpOptions): HttpServer {
  if (runtimeName === "bun") {
    const server = Bun.serve({
      hostname: options.hostname,
      port: options.port,
      fetch: options.fetch,
      idleTimeout: 0,
      tls: options.tls
        ? { cert: options.tls.cert, key: options.tls.key, ca: options.tls.ca, requestCert: options.tls.requestCert }
        : undefined,
    });
    return { hostname: options.hostname, port: server.port, stop: async () => void server.stop(true) };
  }
  if (runtimeName === "deno" && !options.tls) return serveHttp1Deno(options);
  if (runtimeName === "deno") {
    const ac = new AbortController();
    const server = Deno.serve({
      hostname: options.hostname,
      port: options.port,
      signal: ac.signal,
      onListen: () => {},
      cert: options.tls?.cert,
      key: options.tls?.key,
    }, options.fetch);
    return {
      hostname: options.hostname,
      port: server.addr.port,
      stop: async () => {
        ac.abort();
        await server.finished;
      },
    };
  }
  throw new Error("serveHttp: Ambit services run on Bun or Deno");
}
