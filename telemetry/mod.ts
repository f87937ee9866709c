/** Metrics (Prometheus text), structured logs and access logs shared by the services. @module */
export * from "./metrics.ts";
export * from "./logger.ts";
export * from "./tcp_metrics.ts";
export * from "./build_info.ts";
export * from "./process_metrics.ts";
export * from "./prometheus_scrape_config.ts";
export * from "./access_log_ring.ts";
