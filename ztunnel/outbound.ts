// The source side of one captured connection: resolve the destination, decide
// with buildRequest(), open the upstream the decision names (HBONE, same-node
// hand-off, or plain TCP), then copy; the result is recorded exactly once.
import { lookup } from "node:dns/promises";
import * as net from "node:net";
import type { Duplex } from "node:stream";
import {
  type ConnectionPool, formatBaggage, formatForwarded, HboneError, HboneStatusError, newTraceparent, type SocketAddress,
} from "../hbone/mod.ts";
import { formatAuthority } from "../hbone/mod.ts";
import { formatSpiffeId, type SpiffeId } from "../identity/mod.ts";
import type { Logger, TcpMetrics } from "../telemetry/mod.ts";
import type { Workload } from "../xds/resources.ts";
import type { CertificateManager } from "./certificates.ts";
import { ConnectionRecord } from "./connection_record.ts";
import { backedServices, guessInboundService } from "./traffic_labels.ts";
import type { ConnectionTracker } from "./connections.ts";
import type { DestinationRules } from "./destination_guard.ts";
import type { AdmittedConnection, Inbound } from "./inbound.ts";
import { RoundRobin } from "./load_balancer.ts";
import { buildRequest, identityOf, type OutboundRequest, type RefusalReason } from "./outbound_request.ts";
import type { RefusalReport } from "./refusal_report.ts";
import type { OutboundSession, SocksConnectHandler, SocksRefusal } from "./socks5.ts";
import { SocksReply, type SocksReplyCode } from "./socks5_protocol.ts";
import type { ProxyState } from "./state.ts";
import type { ConnectionSpan, ConnectionTracing } from "./connection_trace.ts";

/** What outbound needs from the rest of the ztunnel. */
export interface OutboundDeps {
  readonly node: string;
  readonly state: () => ProxyState;
  readonly pool: ConnectionPool;
  readonly certificates: CertificateManager;
  readonly inbound: Inbound;
  readonly metrics: TcpMetrics;
  readonly log: Logger;
  readonly tracker: ConnectionTracker;
  readonly allowPassthrough: boolean;
  readonly destinationRules: DestinationRules;
  readonly refusals: RefusalReport;
  readonly connectTimeoutMs: number;
  readonly tracing?: ConnectionTracing;
}

/** Refusals of the decision, and one of the dial: the far ztunnel's certificate is revoked. */
type OutboundRefusalReason = RefusalReason | "revoked-certificate";

const REFUSAL_REPLY: Record<OutboundRefusalReason, SocksReplyCode> = {
  "revoked-certificate": SocksReply.notAllowed,
  "self-call": SocksReply.notAllowed,
  "link-local": SocksReply.notAllowed,
  "not-allowed": SocksReply.notAllowed,
  "no-endpoint": SocksReply.hostUnreachable,
  "unknown-host": SocksReply.hostUnreachable,
  "no-waypoint": SocksReply.hostUnreachable,
};

/** An upstream opened for a decision, with who answered. */
interface Upstream {
  readonly stream: Duplex;
  readonly peerIdentity?: SpiffeId;
  /** The serial of the certificate the far ztunnel presented (HBONE). */
  readonly peerSerialNumber?: string;
  /** The same-node hand-off: the destination side's record, fed by this copy. */
  readonly local?: AdmittedConnection;
  /** HBONE: the connection's span, whose traceparent the CONNECT carried. */
  readonly span?: ConnectionSpan;
}

/** The outbound path of one ztunnel. */
export class Outbound {
  readonly #balancer = new RoundRobin();

  constructor(private readonly deps: OutboundDeps) {}

  /** The SOCKS5 handler for connections captured from `source`. */
  handlerFor(source: Workload): SocksConnectHandler {
    return async (request, client) => {
      const host = await this.#resolve(request.host, request.addressType === "domain");
      if (!host) return this.#refuse(source, "unknown-host", `unknown host ${request.host}`);
      return this.open(source, { host, port: request.port }, client);
    };
  }

  /** Decides, opens the upstream, and returns the session to copy through. */
  async open(source: Workload, target: { host: string; port: number }, client: SocketAddress): Promise<OutboundSession | SocksRefusal> {
    const state = this.deps.state();
    const decision = buildRequest({
      state,
      node: this.deps.node,
      source,
      target,
      allowPassthrough: this.deps.allowPassthrough,
      destinationRules: this.deps.destinationRules,
      choose: (key, n) => this.#balancer.choose(key, n),
    });
    if (decision.protocol === "refused") return this.#refuse(source, decision.reason, decision.message, target);
    let upstream: Upstream;
    try {
      upstream = await this.#openUpstream(source, decision, client);
    } catch (e) {
      const message = `${describe(decision)}: ${(e as Error).message}`;
      if (e instanceof HboneError && e.code === "ERR_HBONE_PEER_REVOKED") {
        return this.#refuse(source, "revoked-certificate", message, target);
      }
      this.deps.log.info("outbound", "connection refused", { "src.workload": source.name, reply: replyFor(e), error: message });
      return { reply: replyFor(e), message };
    }
    const sourceIdentity = identityOf(source);
    const dw = decision.workload;
    const destination = {
      address: decision.target,
      hboneAddress: decision.protocol === "hbone" ? decision.hboneAddress : undefined,
      workload: dw,
      // Addressed to a workload directly: the service guessed as the destination side guesses it, so both reporters agree.
      service: decision.service ?? (dw ? guessInboundService(backedServices(dw, (ns, host) => state.findService(ns, host)), decision.target.port) : undefined),
      identity: upstream.peerIdentity ?? (dw && decision.protocol === "local" ? identityOf(dw) : undefined),
    };
    // The copy counts into these; a same-node hand-off shares them with its destination-side record.
    const bytes = upstream.local?.bytes ?? { sent: 0, received: 0 };
    const record = new ConnectionRecord({
      reporter: "source",
      source: { address: client, workload: source, identity: sourceIdentity },
      destination,
      mutualTls: decision.protocol !== "passthrough",
    }, this.deps.metrics, this.deps.log, bytes);
    const tracked = this.deps.tracker.add({
      direction: "outbound",
      source: client,
      destination: decision.target,
      sourceIdentity: formatSpiffeId(sourceIdentity),
      destinationIdentity: destination.identity ? formatSpiffeId(destination.identity) : undefined,
      destinationWorkloadUid: decision.workload?.uid,
      ...(upstream.peerSerialNumber ? { peerSerialNumber: upstream.peerSerialNumber } : {}),
      protocol: decision.protocol,
    }, () => upstream.stream.destroy());
    return {
      upstream: upstream.stream,
      bytes,
      onClosed: (r) => {
        record.finish({ sent: r.sent, received: r.received, error: r.error?.message });
        upstream.span?.end({ sent: r.sent, received: r.received, error: r.error?.message });
        upstream.local?.finish(r.sent, r.received, r.error?.message);
        tracked.release();
      },
    };
  }

  async #openUpstream(source: Workload, decision: Exclude<OutboundRequest, { protocol: "refused" }>, client: SocketAddress): Promise<Upstream> {
    const sourceIdentity = identityOf(source);
    switch (decision.protocol) {
      case "hbone": {
        const cert = await this.deps.certificates.ready(sourceIdentity);
        const span = this.deps.tracing?.outbound({
          "src.addr": formatAuthority(client), "src.workload": `${source.namespace}/${source.name}`, "src.identity": formatSpiffeId(sourceIdentity),
          "dst.addr": formatAuthority(decision.target), "dst.hbone_addr": formatAuthority(decision.hboneAddress), "dst.service": decision.service?.hostname,
          "node_id": this.deps.node, "component": "ztunnel",
        });
        const tunnel = await this.deps.pool.connect({
          source: cert,
          hboneAddress: decision.hboneAddress,
          expectedIdentities: decision.expectedIdentities,
          target: decision.target,
          localAddress: source.addresses[0],
          headers: {
            baggage: baggageOf(source),
            forwarded: formatForwarded({ for: formatAuthority(client), host: decision.service?.hostname }),
            traceparent: span?.traceparent ?? newTraceparent(),
          },
        }).catch((e: Error) => {
          span?.end({ sent: 0, received: 0, error: e.message });
          throw e;
        });
        return { stream: tunnel.stream, peerIdentity: tunnel.peerIdentity, peerSerialNumber: tunnel.peerSerialNumber, span };
      }
      case "local": {
        const admitted = await this.deps.inbound.openLocal(source, sourceIdentity, client, decision.target, decision.service?.hostname);
        return { stream: admitted.upstream, peerIdentity: identityOf(decision.workload), local: admitted };
      }
      case "passthrough":
        return { stream: await dial(decision.target, this.deps.connectTimeoutMs) };
    }
  }

  async #resolve(host: string, isDomain: boolean): Promise<string | undefined> {
    if (!isDomain || net.isIP(host) !== 0) return host;
    // Mesh services first: their hostnames need no DNS.
    if (this.deps.state().findServiceByHostname(host)) return host;
    try {
      return (await lookup(host)).address;
    } catch {
      return undefined;
    }
  }

  #refuse(source: Workload, reason: OutboundRefusalReason, message: string, target?: { host: string; port: number }): SocksRefusal {
    const reply = REFUSAL_REPLY[reason];
    this.deps.refusals.record("outbound", reason, message, {
      "src.workload": `${source.namespace}/${source.name}`,
      "dst.addr": target && `${target.host}:${target.port}`,
      reply,
    });
    return { reply, message };
  }
}

function describe(d: Exclude<OutboundRequest, { protocol: "refused" }>): string {
  const via = d.protocol === "hbone" ? ` via ${formatAuthority(d.hboneAddress)}` : "";
  return `${d.protocol} ${formatAuthority(d.target)}${via}`;
}

/** Maps an upstream failure to the SOCKS reply the client sees. */
function replyFor(e: unknown): SocksReplyCode {
  if (e instanceof HboneStatusError) {
    if (e.status === 401) return SocksReply.notAllowed;
    if (e.status === 503) return SocksReply.connectionRefused;
    return SocksReply.generalFailure;
  }
  if (e instanceof HboneError) return e.code === "ERR_HBONE_PEER_IDENTITY" ? SocksReply.notAllowed : SocksReply.hostUnreachable;
  const code = (e as { code?: string }).code;
  if (code === "ECONNREFUSED") return SocksReply.connectionRefused;
  if (code === "ETIMEDOUT" || code === "EHOSTUNREACH") return SocksReply.hostUnreachable;
  if (code === "ENETUNREACH") return SocksReply.networkUnreachable;
  return SocksReply.generalFailure;
}

/** The baggage a source workload's tunnels carry (ztunnel's keys). */
export function baggageOf(w: Workload): string {
  const kind = (w.workloadType || "pod").toLowerCase();
  return formatBaggage({
    "k8s.cluster.name": w.clusterId,
    "k8s.namespace.name": w.namespace,
    [`k8s.${kind}.name`]: w.workloadName || w.name,
    "service.name": w.canonicalName || w.workloadName || w.name,
    "service.version": w.canonicalRevision || undefined,
  });
}

function dial(target: SocketAddress, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.address, port: target.port, allowHalfOpen: true, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`connect to ${formatAuthority(target)} timed out`), { code: "ETIMEDOUT" }));
    }, timeoutMs);
    socket.once("connect", () => (clearTimeout(timer), resolve(socket)));
    socket.once("error", (e) => (clearTimeout(timer), reject(e)));
  });
}

