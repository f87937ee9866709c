/**
 * The one place that knows which runtime Ambit runs on. Everything else uses
 * node:* APIs that Bun and Deno share, and this adapter for what they do not.
 */
export { runtimeName, runtimeVersion, serveHttp, type HttpServer, type ServeHttpOptions } from "./serve.ts";
