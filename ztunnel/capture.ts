// Transparent capture's listeners on one node (docs/capture.md): outbound on
// 15001 and DNS on 15053, both on loopback, where the node's nftables rules
// (`ambit capture install`) redirect a captured workload's traffic.
import * as fs from "node:fs";
import { type OriginalDestinationReader, originalDestinationReader, socketOwnerOf } from "../runtime/mod.ts";
import type { Logger } from "../telemetry/mod.ts";
import { startCaptureHeartbeat } from "./capture_heartbeat.ts";
import { CaptureOutboundListener } from "./capture_outbound.ts";
import type { ZtunnelConfig } from "./config.ts";
import { DnsProxy, upstreamFromResolvConf } from "./dns_proxy.ts";
import type { Outbound } from "./outbound.ts";
import type { ProxyState } from "./state.ts";

/** Where the capture listeners bind: a redirect made on this host lands on loopback. */
export const CAPTURE_ADDRESS = "127.0.0.1";

/** The running capture listeners. */
export interface Capture {
  readonly originalDestination: OriginalDestinationReader;
  stopAccepting(): Promise<void>;
  close(): void;
}

/** Starts the capture listeners; throws when a port is taken. */
export async function startCapture(config: ZtunnelConfig, state: () => ProxyState, outbound: Outbound, log: Logger): Promise<Capture> {
  const originalDestination = await originalDestinationReader();
  const listener = new CaptureOutboundListener({
    localWorkloads: () => state().workloadsOnNode(config.node),
    handlerFor: (w) => outbound.handlerFor(w),
    originalDestination,
    ownerOf: socketOwnerOf,
    log,
  });
  const upstream = config.dnsUpstream === "none" ? undefined : config.dnsUpstream || resolvConfUpstream();
  const dns = new DnsProxy({ state, clusterDomain: config.clusterDomain, upstream, log });
  await listener.listen(CAPTURE_ADDRESS, config.capturePort);
  try {
    await dns.listen(CAPTURE_ADDRESS, config.dnsPort);
  } catch (e) {
    listener.close();
    throw e;
  }
  const stopHeartbeat = config.captureHeartbeat ? startCaptureHeartbeat(config.captureHeartbeat, log) : () => {};
  log.info("capture", "capture listeners up", { outbound: `${CAPTURE_ADDRESS}:${config.capturePort}`, dns: `${CAPTURE_ADDRESS}:${config.dnsPort}`, dnsUpstream: upstream ?? "none" });
  return {
    originalDestination,
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
