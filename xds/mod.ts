/** Data-plane resources and (later) the delta-xDS protocol over JSON/HTTP. @module */
export * from "./resources.ts";
export * from "./protocol.ts";
export * from "./server.ts";
export * from "./client.ts";
export * from "./http_routes.ts";
export * from "./resource_schemas.ts";
