/**
 * The one place that knows which runtime Ambit runs on. Everything else uses
 * node:* APIs that Bun and Deno share, and this adapter for what they do not.
 */
export { runtimeName, runtimeVersion, serveHttp, type HttpServer, type ServeHttpOptions } from "./serve.ts";
export { type Admission, serveHttp2, type Http2Listener, type Http2PeerInfo, type RequestHead, type ServeHttp2Options } from "./http2_server.ts";
export { Http2Client, type Http2ClientResponse, type Http2ClientTls } from "./http2_client.ts";
export { conntrackReader, type OriginalDestinationReader, originalDestinationReader } from "./original_destination.ts";
export type { Endpoint } from "./conntrack.ts";
