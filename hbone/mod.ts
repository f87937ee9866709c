/**
 * HBONE: TCP tunnelled as HTTP/2 CONNECT streams over mutual TLS, the way
 * Istio ambient carries workload traffic between nodes.
 *
 * @module
 */
export * from "./errors.ts";
export * from "./headers.ts";
export * from "./copy.ts";
export * from "./tls.ts";
export * from "./server.ts";
export * from "./connection_pool.ts";
export * from "./http2_stack.ts";
