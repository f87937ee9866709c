/**
 * Closes what is already open with a certificate that has just been revoked.
 * Refusing a revoked serial at the next CONNECT is not enough: a tunnel opened
 * a minute earlier would carry a stolen node's traffic for as long as it lives,
 * and an HTTP/2 session would keep accepting new streams from it. So when a
 * TrustBundle brings new revoked serials, every connection whose far side
 * proved one of them — inbound tunnels from it, outbound tunnels to it — is
 * closed, and so are the HBONE sessions and pooled connections carrying them.
 * Each closing is counted in `ambit_revoked_connections_closed_total{direction}`
 * and logged with the serials.
 *
 * @example
 * ```ts
 * const sweep = new RevocationSweep({ tracker, pool, hbone, registry, log });
 * sweep.apply(revokedSerialSet(["1a2b"])); // closes what 1a2b has open
 * ```
 * @module
 */
import type { ConnectionPool, HboneServer } from "../hbone/mod.ts";
import type { Logger, Metric, MetricsRegistry } from "../telemetry/mod.ts";
import type { ConnectionTracker } from "./connections.ts";
import { checkRevokedSerial, normaliseSerial } from "./revoked_serials.ts";

/** What the sweep closes things in. */
export interface RevocationSweepDeps {
  readonly tracker: ConnectionTracker;
  readonly pool: Pick<ConnectionPool, "closeWhere">;
  readonly hbone: Pick<HboneServer, "closeSessionsWhere">;
  readonly registry: MetricsRegistry;
  readonly log: Logger;
}

/** What one sweep closed. */
export interface SweepResult {
  readonly inbound: number;
  readonly outbound: number;
  /** HBONE server sessions and pooled client connections ended with them. */
  readonly sessions: number;
}

/** Closes open connections of revoked certificates, once per new revocation list. */
export class RevocationSweep {
  readonly #closed: Metric;

  constructor(private readonly deps: RevocationSweepDeps) {
    this.#closed = deps.registry.counter(
      "ambit_revoked_connections_closed_total",
      "Open connections the ztunnel closed because the far side's certificate was revoked, by direction",
      ["direction"],
    );
  }

  /** Closes everything open with a serial in `revoked`; returns the counts. */
  apply(revoked: ReadonlySet<string>): SweepResult {
    if (revoked.size === 0) return { inbound: 0, outbound: 0, sessions: 0 };
    const isRevoked = (serial: string | undefined) => checkRevokedSerial(serial, revoked).revoked;
    const serials = new Set<string>();
    const counts = { inbound: 0, outbound: 0 };
    this.deps.tracker.closeWhere((info) => {
      if (info.protocol !== "hbone" || !isRevoked(info.peerSerialNumber)) return false;
      counts[info.direction]++;
      serials.add(normaliseSerial(info.peerSerialNumber!));
      return true;
    });
    // The sessions too: an HTTP/2 connection left open would carry the next CONNECT (refused, but
    // still read), and a pooled one would be picked for the next tunnel to the same workload.
    const sessions = this.deps.hbone.closeSessionsWhere((peer) => isRevoked(peer.serialNumber)) +
      this.deps.pool.closeWhere((peer) => isRevoked(peer.serialNumber));
    for (const direction of ["inbound", "outbound"] as const) if (counts[direction] > 0) this.#closed.inc({ direction }, counts[direction]);
    if (counts.inbound + counts.outbound + sessions > 0) {
      this.deps.log.warn("ztunnel", "closed open connections of a revoked certificate", {
        reason: "revoked-certificate",
        inbound: counts.inbound,
        outbound: counts.outbound,
        sessions,
        serials: [...serials].join(","),
      });
    }
    return { ...counts, sessions };
  }
}
