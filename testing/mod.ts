/** Test helpers shared by unit and end-to-end tests. @module */
export * from "./harness.ts";
export * from "./loopback.ts";
export * from "./processes.ts";
export * from "./tcp.ts";
export * from "./pki.ts";
export * from "./tls12_probe.ts";
export * from "./runtime_command.ts";
export * from "./peers.ts";
export * from "./socks.ts";
export * from "./socks_credentials.ts";
export * from "./mesh.ts";
export * from "./controlplane.ts";
export * from "./resources.ts";
export * from "./netns.ts";
export * from "./capture_mesh.ts";
export * from "./prometheus.ts";
export * from "./waypoint_demo_mesh.ts";
