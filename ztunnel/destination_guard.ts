/**
 * Destinations no connection may have, whichever way it comes in: one of the
 * ztunnel's own ports (istio/ztunnel's `SelfCall`: a ztunnel made to dial its own
 * SOCKS5, HBONE or plaintext listener would speak as whichever workload owns
 * it), and, for plain-TCP passthrough, link-local addresses (169.254.0.0/16,
 * fe80::/10: the cloud metadata service, whose answers are the node's own
 * credentials) unless `--passthrough-link-local` allows them. Pure, so both
 * directions share one table-tested answer.
 *
 * @example
 * ```ts
 * const reserved = reservedPortsOf(config);
 * checkDestination({ address: "127.0.20.3", port: 15080 }, { reservedPorts: reserved, allowLinkLocal: false });
 * // → { reason: "self-call", message: "port 15080 is one of the ztunnel's own ports" }
 * ```
 * @module
 */
import { isIP } from "node:net";

/** Istio's fixed ztunnel ports: admin, outbound capture, inbound plaintext, HBONE, metrics, readiness, DNS, SOCKS5. */
export const ISTIO_ZTUNNEL_PORTS: readonly number[] = [15000, 15001, 15006, 15008, 15020, 15021, 15053, 15080];

/** Why a destination is refused: the names the log line and the metric carry. */
export type DestinationRefusalReason = "self-call" | "link-local";

export interface DestinationRefusal {
  readonly reason: DestinationRefusalReason;
  readonly message: string;
}

/** The ports a ztunnel's listeners use, as its config sets them. */
export interface ZtunnelPorts {
  readonly adminPort: number;
  readonly metricsPort: number;
  readonly readinessPort: number;
  readonly hbonePort: number;
  readonly plaintextPort: number;
  readonly socksPort: number;
}

/** Istio's fixed ports and every port this ztunnel is configured to listen on. */
export function reservedPortsOf(ports: ZtunnelPorts): ReadonlySet<number> {
  const configured = [ports.adminPort, ports.metricsPort, ports.readinessPort, ports.hbonePort, ports.plaintextPort, ports.socksPort];
  // Port 0 means "any free port" (tests): it names no destination.
  return new Set([...ISTIO_ZTUNNEL_PORTS, ...configured.filter((p) => p > 0)]);
}

/** The rules a destination is checked against. */
export interface DestinationRules {
  readonly reservedPorts: ReadonlySet<number>;
  /** Whether plain TCP may go to link-local addresses. */
  readonly allowLinkLocal: boolean;
}

/**
 * Refuses a destination on a reserved port, or (when `address` is given, for
 * passthrough) on a link-local address the rules do not allow.
 */
export function checkDestination(destination: { readonly address?: string; readonly port: number }, rules: DestinationRules): DestinationRefusal | undefined {
  if (rules.reservedPorts.has(destination.port)) {
    return { reason: "self-call", message: `port ${destination.port} is one of the ztunnel's own ports` };
  }
  if (destination.address !== undefined && !rules.allowLinkLocal && isLinkLocal(destination.address)) {
    return { reason: "link-local", message: `${destination.address} is link-local (cloud metadata lives there); --passthrough-link-local allows it` };
  }
  return undefined;
}

/** 169.254.0.0/16, fe80::/10, and IPv4-mapped forms of the former. */
export function isLinkLocal(address: string): boolean {
  const a = address.toLowerCase().replace(/^::ffff:(?=\d+\.)/, "");
  if (isIP(a) === 4) return a.startsWith("169.254.");
  if (isIP(a) === 6) return /^fe[89ab][0-9a-f]?:/.test(a);
  return false;
}
