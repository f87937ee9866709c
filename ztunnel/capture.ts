// Transparent capture's listeners on one node (docs/capture.md): outbound on
// 15001 (one loopback address per captured workload) and DNS on 127.0.0.1:15053,
// where the node's nftables rules (`ambit capture install`) send a captured
// workload's traffic.
import * as fs from "node:fs";
import { type OriginalDestinationReader, originalDestinationReader } from "../runtime/mod.ts";
import type { Logger } from "../telemetry/mod.ts";
import { startCaptureHeartbeat } from "./capture_heartbeat.ts";
import { CaptureOutbound } from "./capture_outbound.ts";
import type { ZtunnelConfig } from "./config.ts";
import { DnsProxy, upstreamFromResolvConf } from "./dns_proxy.ts";
import type { Outbound } from "./outbound.ts";
import type { ProxyState } from "./state.ts";

/** Where the DNS proxy binds: a redirect made on this host lands on loopback. */
export const DNS_ADDRESS = "127.0.0.1";

/** The running capture listeners. */
export interface Capture {
  readonly originalDestination: OriginalDestinationReader;
  /** Brings the outbound listeners in line with the node's captured workloads. */
  reconcile(): Promise<void>;
  stopAccepting(): Promise<void>;
  close(): void;
}

/** Starts the capture listeners; throws when a port is taken. */
export async function startCapture(config: ZtunnelConfig, state: () => ProxyState, outbound: Outbound, log: Logger): Promise<Capture> {
  const originalDestination = await originalDestinationReader();
  const listener = new CaptureOutbound({
    localWorkloads: () => state().workloadsOnNode(config.node),
    handlerFor: (w) => outbound.handlerFor(w),
    originalDestination,
    port: config.capturePort,
    log,
  });
  const upstream = config.dnsUpstream === "none" ? undefined : config.dnsUpstream || resolvConfUpstream();
  const dns = new DnsProxy({ state, clusterDomain: config.clusterDomain, upstream, log });
  await dns.listen(DNS_ADDRESS, config.dnsPort);
  const stopHeartbeat = config.captureHeartbeat ? startCaptureHeartbeat(config.captureHeartbeat, log) : () => {};
  log.info("capture", "capture listeners up", { outboundPort: config.capturePort, dns: `${DNS_ADDRESS}:${config.dnsPort}`, dnsUpstream: upstream ?? "none" });
  return {
    originalDestination,
    reconcile: () => listener.reconcile(),
    // A draining ztunnel takes no new connections: a fail-open node lets them go direct.
    stopAccepting: () => (stopHeartbeat(), listener.stopAccepting()),
    close: () => (stopHeartbeat(), listener.close(), dns.close()),
  };
}

function resolvConfUpstream(): string | undefined {
  try {
    return upstreamFromResolvConf(fs.readFileSync("/etc/resolv.conf", "utf8"));
  } catch {
    return undefined;
  }
}
