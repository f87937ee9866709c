// The destination side: a tunnel arrives (over HBONE, or handed over by this
// node's own outbound path), and is carried to the workload in three steps —
// build the context, authorize and connect, then answer 200 and copy (the
// copying is the HBONE server's, or the outbound path's for same-node hand-offs).
import * as net from "node:net";
import type { Duplex } from "node:stream";
import {
  badRequestError, type ByteCounts, deniedError, formatAuthority, type InboundTunnel, type InboundTunnelRecord, type SocketAddress, upstreamError,
} from "../hbone/mod.ts";
import { formatSpiffeId, parseSpiffeId, type SpiffeId } from "../identity/mod.ts";
import type { Logger, TcpMetrics } from "../telemetry/mod.ts";
import type { Workload } from "../xds/resources.ts";
import type { AuthorizationReport } from "./authorization_report.ts";
import { ConnectionRecord } from "./connection_record.ts";
import { checkDestination, type DestinationRules } from "./destination_guard.ts";
import type { RefusalReport } from "./refusal_report.ts";
import { checkRevokedSerial } from "./revoked_serials.ts";
import { identityOf } from "./outbound_request.ts";
import { backedServices, guessInboundService } from "./traffic_labels.ts";
import type { ConnectionTracker } from "./connections.ts";
import { authorize, type AuthorizationDecision, type ConnectionFacts } from "./rbac.ts";
import type { ProxyState } from "./state.ts";
import type { ConnectionSpan, ConnectionTracing } from "./connection_trace.ts";
import { checkWaypointPeer, forwardedSource } from "./waypoint_guard.ts";

const NONE_REVOKED: ReadonlySet<string> = new Set();

/** What inbound needs from the rest of the ztunnel. */
export interface InboundDeps {
  readonly node: string;
  readonly state: () => ProxyState;
  readonly metrics: TcpMetrics;
  readonly log: Logger;
  readonly tracker: ConnectionTracker;
  readonly connectTimeoutMs: number;
  readonly authorization: AuthorizationReport;
  /** The ztunnel's own ports: never a destination, however a connection arrives. */
  readonly destinationRules: DestinationRules;
  readonly refusals: RefusalReport;
  /** Serials of revoked node and workload certificates (normalised), from the TrustBundle. */
  readonly revokedSerials?: () => ReadonlySet<string>;
  /** Connection spans continuing each CONNECT's traceparent. */
  readonly tracing?: ConnectionTracing;
}

/** One admitted connection: its upstream socket and how to report its end. */
export interface AdmittedConnection {
  readonly upstream: net.Socket;
  readonly workload: Workload;
  /** The copy's live byte counts (source side as `sent`): whoever copies must count into these. */
  readonly bytes: ByteCounts;
  finish(sent: number, received: number, error?: string): void;
}

/** The context inbound decides on. */
interface InboundContext {
  /** Absent for plaintext connections. */
  readonly peerIdentity?: SpiffeId;
  /** The peer certificate's serial, for HBONE when the stack exposes it. */
  readonly peerSerialNumber?: string;
  readonly peer: SocketAddress;
  readonly destination: SocketAddress;
  /** For HBONE: the listener's address, which must belong to the destination workload. */
  readonly arrivedOn?: string;
  readonly baggage?: Readonly<Record<string, string>>;
  /** The `forwarded` header's original source; trusted only from a waypoint of the destination. */
  readonly forwardedFor?: string;
  /** The service hostname the source says it was reaching (`forwarded` host, or the source's own decision). */
  readonly serviceHost?: string;
  /** Live byte counts of the copy, when the copier made them already (the HBONE server does). */
  readonly bytes?: ByteCounts;
  readonly protocol: "hbone" | "local" | "plaintext";
}

/** The inbound path of one ztunnel. */
export class Inbound {
  readonly #byTunnel = new WeakMap<InboundTunnel, AdmittedConnection>();
  readonly #spans = new WeakMap<InboundTunnel, ConnectionSpan>();

  constructor(private readonly deps: InboundDeps) {}

  /** HboneServer's connect hook: admits a CONNECT or throws the status to answer. */
  readonly connectUpstream = async (tunnel: InboundTunnel): Promise<Duplex> => {
    const admitted = await this.admit({
      peerIdentity: tunnel.peerIdentity,
      peerSerialNumber: tunnel.peerSerialNumber,
      peer: tunnel.peer,
      destination: tunnel.destination,
      arrivedOn: tunnel.local.address,
      baggage: tunnel.baggage,
      ...(tunnel.forwarded.for ? { forwardedFor: tunnel.forwarded.for } : {}),
      serviceHost: tunnel.forwarded.host,
      bytes: tunnel.bytes,
      protocol: "hbone",
    });
    this.#byTunnel.set(tunnel, admitted);
    const span = this.deps.tracing?.inbound(tunnel.traceparent, {
      "src.addr": `${tunnel.peer.address}:${tunnel.peer.port}`, "src.identity": `spiffe://${tunnel.peerIdentity.trustDomain}/ns/${tunnel.peerIdentity.namespace}/sa/${tunnel.peerIdentity.serviceAccount}`,
      "dst.addr": `${tunnel.destination.address}:${tunnel.destination.port}`, "node_id": this.deps.node, "component": "ztunnel",
    });
    if (span) this.#spans.set(tunnel, span);
    return admitted.upstream;
  };

  /** HboneServer's close hook. */
  readonly onTunnelClosed = (record: InboundTunnelRecord): void => {
    const admitted = record.tunnel && this.#byTunnel.get(record.tunnel);
    if (!admitted) return;
    this.#spans.get(record.tunnel!)?.end({ sent: record.bytes.sent, received: record.bytes.received, error: record.error?.message });
    admitted.finish(record.bytes.sent, record.bytes.received, record.error?.message);
  };

  /** Same-node hand-off from this ztunnel's outbound path: no TLS, the same checks. */
  openLocal(source: Workload, sourceIdentity: SpiffeId, client: SocketAddress, destination: SocketAddress, serviceHost?: string): Promise<AdmittedConnection> {
    const peer = { address: source.addresses[0] ?? client.address, port: client.port };
    return this.admit({ peerIdentity: sourceIdentity, peer, destination, serviceHost, protocol: "local" });
  }

  /** A plaintext connection (port 15006): no identity, the same policy checks. */
  openPlaintext(peer: SocketAddress, destination: SocketAddress): Promise<AdmittedConnection> {
    return this.admit({ peer, destination, protocol: "plaintext" });
  }

  /** Would this connection be allowed now, and which policy decides? (The admin explain endpoint.) */
  explain(facts: ConnectionFacts): { workload?: string; decision?: AuthorizationDecision; error?: string } {
    const state = this.deps.state();
    const workload = state.findWorkload(facts.destinationAddress);
    if (!workload || workload.node !== this.deps.node) return { error: `no workload at ${facts.destinationAddress} on node ${this.deps.node}` };
    return { workload: `${workload.namespace}/${workload.name}`, decision: authorize(state.policiesFor(workload), facts) };
  }

  /**
   * Re-checks every open inbound connection against the current policies,
   * closing what is now denied. The facts come from the connection table.
   */
  reauthorize(): number {
    const state = this.deps.state();
    return this.deps.tracker.closeWhere((info) => {
      const workload = info.direction === "inbound" && info.destinationWorkloadUid ? state.findWorkloadByUid(info.destinationWorkloadUid) : undefined;
      if (!workload) return false;
      const facts: ConnectionFacts = {
        sourceIdentity: info.sourceIdentity ? parseSpiffeId(info.sourceIdentity) : undefined,
        sourceAddress: info.source.address,
        destinationAddress: info.destination.address,
        destinationPort: info.destination.port,
      };
      const decision = authorize(state.policiesFor(workload), facts);
      if (decision.allowed) return false;
      this.deps.authorization.record(decision, {
        source: facts.sourceIdentity,
        sourceAddress: facts.sourceAddress,
        destination: info.destination,
        workload,
        reason: "open connection closed: a policy change denies it",
      });
      return true;
    });
  }

  /** Build the context, authorize, connect. Throws HboneStatusError (400/401/503). */
  async admit(ctx: InboundContext): Promise<AdmittedConnection> {
    const selfCall = checkDestination({ port: ctx.destination.port }, this.deps.destinationRules);
    if (selfCall) {
      this.deps.refusals.record("inbound", selfCall.reason, selfCall.message, { protocol: ctx.protocol, "src.addr": ctx.peer.address, "dst.addr": formatAuthority(ctx.destination) });
      throw badRequestError(`${formatAuthority(ctx.destination)}: ${selfCall.message}`);
    }
    const revocation = checkRevokedSerial(ctx.peerSerialNumber, this.deps.revokedSerials?.() ?? NONE_REVOKED);
    if (revocation.revoked) {
      const message = `the peer's certificate (serial ${revocation.serial}) belongs to a revoked node`;
      this.deps.refusals.record("inbound", "revoked-certificate", message, {
        protocol: ctx.protocol, "src.addr": ctx.peer.address, "src.identity": ctx.peerIdentity && formatSpiffeId(ctx.peerIdentity), "dst.addr": formatAuthority(ctx.destination),
      });
      throw deniedError(message);
    }
    const state = this.deps.state();
    const workload = state.findWorkload(ctx.destination.address);
    if (!workload || workload.node !== this.deps.node || workload.tunnelProtocol !== "HBONE") {
      throw badRequestError(`unknown destination ${formatAuthority(ctx.destination)} on node ${this.deps.node}`);
    }
    if (ctx.arrivedOn !== undefined && !workload.addresses.includes(ctx.arrivedOn.replace(/^::ffff:/, ""))) {
      throw badRequestError(`destination ${formatAuthority(ctx.destination)} is not the workload listening on ${ctx.arrivedOn}`);
    }
    if (workload.nativeTunnel) throw badRequestError(`${formatAuthority(ctx.destination)} is a waypoint: it terminates its own tunnels`);
    const guard = checkWaypointPeer(state, workload, ctx.peerIdentity);
    if (!guard.allowed) {
      this.deps.authorization.record({ allowed: false, policy: guard.reason, reason: "no-allow-match" }, {
        source: ctx.peerIdentity, sourceAddress: ctx.peer.address, destination: ctx.destination, workload, reason: "connection denied: it skipped the waypoint",
      });
      throw deniedError(guard.message);
    }
    const source = (guard.fromWaypoint && forwardedSource(ctx.forwardedFor)) || ctx.peer.address;
    const facts: ConnectionFacts = {
      sourceIdentity: ctx.peerIdentity,
      sourceAddress: source,
      destinationAddress: ctx.destination.address,
      destinationPort: ctx.destination.port,
    };
    const decision = authorize(state.policiesFor(workload), facts);
    this.deps.authorization.record(decision, { source: ctx.peerIdentity, sourceAddress: source, destination: ctx.destination, workload });
    if (!decision.allowed) {
      const who = ctx.peerIdentity ? formatSpiffeId(ctx.peerIdentity) : `plaintext ${ctx.peer.address}`;
      throw deniedError(`${who} may not reach ${formatAuthority(ctx.destination)}: ${decision.policy ? `denied by ${decision.policy}` : "no ALLOW policy matches"}`);
    }
    const upstream = await this.#connect(ctx.destination);
    const bytes = ctx.bytes ?? { sent: 0, received: 0 };
    const service = guessInboundService(backedServices(workload, (ns, host) => state.findService(ns, host)), ctx.destination.port, ctx.serviceHost);
    const record = new ConnectionRecord({
      reporter: "destination",
      source: { address: ctx.peer, workload: state.findWorkload(ctx.peer.address), identity: ctx.peerIdentity, baggage: ctx.baggage },
      destination: { address: ctx.destination, workload, service, identity: identityOf(workload) },
      mutualTls: ctx.protocol !== "plaintext",
    }, this.deps.metrics, this.deps.log, bytes);
    const tracked = this.deps.tracker.add({
      direction: "inbound",
      source: ctx.peer,
      destination: ctx.destination,
      sourceIdentity: ctx.peerIdentity ? formatSpiffeId(ctx.peerIdentity) : undefined,
      destinationWorkloadUid: workload.uid,
      ...(ctx.peerSerialNumber ? { peerSerialNumber: ctx.peerSerialNumber } : {}),
      protocol: ctx.protocol,
    }, () => upstream.destroy());
    return {
      upstream,
      workload,
      bytes,
      finish: (sent, received, error) => {
        record.finish({ sent, received, error });
        tracked.release();
      },
    };
  }

  #connect(destination: SocketAddress): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: destination.address, port: destination.port, allowHalfOpen: true, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(upstreamError(`connect to ${formatAuthority(destination)} timed out`));
      }, this.deps.connectTimeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve(socket);
      });
      socket.once("error", (e) => {
        clearTimeout(timer);
        reject(upstreamError(`connect to ${formatAuthority(destination)}: ${e.message}`, e));
      });
    });
  }
}
