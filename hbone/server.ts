import * as http2 from "node:http2";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import { formatSpiffeId, type SpiffeId, type WorkloadCertificate } from "../identity/mod.ts";
import { type ByteCounts, copyBidirectional, type CopyResult } from "./copy.ts";
import { HboneStatusError, upstreamError } from "./errors.ts";
import { type Forwarded, parseAuthority, parseBaggage, parseForwarded, type SocketAddress } from "./headers.ts";
import { HBONE_TLS, identityFromSubjectAltName, tlsCredentials } from "./tls.ts";
import { type LeanListener, listenLean, type LeanTuning, type TlsConnectionFacts } from "./h2/bun_tls.ts";
import { defaultHttp2Stack, type Http2Stack, type TunnelStream } from "./http2_stack.ts";

/** What the server knows about one CONNECT when it asks where to send it. */
export interface InboundTunnel {
  /** Verified identity of the peer that opened the TLS connection. */
  readonly peerIdentity: SpiffeId;
  /** The peer certificate's serial number (hex), when the stack exposes it: revocation is checked on it. */
  readonly peerSerialNumber?: string;
  /** Where the peer connected from. */
  readonly peer: SocketAddress;
  /** The local address the TLS connection arrived on: the workload it is for. */
  readonly local: SocketAddress;
  /** From `:authority`. */
  readonly destination: SocketAddress;
  readonly baggage: Record<string, string>;
  readonly forwarded: Forwarded;
  readonly traceparent?: string;
  /** Bytes copied so far each way (from the peer as `sent`), live while the tunnel runs. */
  readonly bytes: ByteCounts;
}

/** How a tunnel ended, reported once when it closes. */
export interface InboundTunnelRecord {
  readonly tunnel?: InboundTunnel;
  readonly status: number;
  readonly bytes: CopyResult;
  readonly durationMs: number;
  readonly error?: Error;
}

/** Options for {@link HboneServer}. */
export interface HboneServerOptions {
  /** Peers from another trust domain are refused before any stream is read. */
  readonly trustDomain: string;
  /**
   * Decides and opens the upstream for a CONNECT. Throw an {@link HboneStatusError}
   * to refuse with its status (401 for policy); any other error answers 503.
   */
  readonly connectUpstream: (tunnel: InboundTunnel) => Promise<Duplex>;
  readonly onTunnelClosed?: (record: InboundTunnelRecord) => void;
  readonly onSessionError?: (error: Error, local: SocketAddress) => void;
  /** HTTP/2 implementation. Default {@link defaultHttp2Stack}. */
  readonly http2?: Http2Stack;
  /**
   * Limits and clocks of the lean stack (hbone/h2/bun_tls.ts has the defaults);
   * on node:http2 only `maxConcurrentStreams` and `handshakeTimeoutMs` apply.
   */
  readonly tuning?: LeanTuning;
}

/** A server-side CONNECT stream from either stack. */
type ServerStream = TunnelStream & {
  respond(headers: Record<string, string | number>, options?: { endStream?: boolean }): void;
};

/** What was proven about one accepted TLS connection. */
interface AcceptedConnection {
  readonly peerIdentity: SpiffeId;
  readonly peerSerialNumber?: string;
  readonly peer: SocketAddress;
  readonly local: SocketAddress;
}

/** A session of either stack, as far as the server needs to end it. */
interface ServerSession {
  destroy(): void;
}

const EMPTY: CopyResult = { sent: 0, received: 0 };

/**
 * Terminates HBONE: HTTP/2 CONNECT over mutual TLS. HBONE carries no SNI, so the
 * certificate is chosen by the local address: one listener per workload address,
 * each presenting that workload's certificate.
 *
 * @example
 * ```ts
 * const server = new HboneServer({ trustDomain: "cluster.local", connectUpstream: (t) => dial(t.destination) });
 * await server.listen({ address: "127.0.10.2", port: 15008 }, workloadCert);
 * ```
 */
export class HboneServer {
  readonly #listeners = new Map<string, http2.Http2SecureServer | LeanListener>();
  readonly #sessions = new Set<ServerSession>();
  readonly #streams = new Set<ServerStream>();
  readonly #stack: Http2Stack;

  constructor(private readonly options: HboneServerOptions) {
    this.#stack = options.http2 ?? defaultHttp2Stack();
  }

  /** The HTTP/2 implementation this server speaks. */
  get http2(): Http2Stack {
    return this.#stack;
  }

  /** Starts listening on `local`, presenting `certificate`. Resolves with the bound address. */
  async listen(local: SocketAddress, certificate: WorkloadCertificate): Promise<SocketAddress> {
    if (this.#stack === "lean") return this.#listenLean(local, certificate);
    const server = http2.createSecureServer({
      ...HBONE_TLS,
      ...tlsCredentials(certificate),
      requestCert: true,
      rejectUnauthorized: true,
      allowHTTP1: false,
      handshakeTimeout: this.options.tuning?.handshakeTimeoutMs ?? 10_000,
      settings: { enableConnectProtocol: false, maxConcurrentStreams: this.options.tuning?.maxConcurrentStreams ?? 100 },
    });
    server.on("session", (session) => this.#onSession(session, local));
    server.on("stream", (stream: http2.ServerHttp2Stream, headers) => {
      const conn = acceptedConnections.get(stream.session as http2.ServerHttp2Session);
      if (conn) void this.#onStream(stream as unknown as ServerStream, headers, conn);
      else stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    });
    // Handshake failures (no client cert, unknown CA, expired) are the peer's problem, not ours: reported, never thrown.
    server.on("tlsClientError", (e: Error) => this.options.onSessionError?.(e, local));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(local.port, local.address, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const bound = server.address() as { address: string; port: number };
    const key = `${bound.address}:${bound.port}`;
    this.#listeners.set(key, server);
    return { address: bound.address, port: bound.port };
  }

  #listenLean(local: SocketAddress, certificate: WorkloadCertificate): Promise<SocketAddress> {
    let listener: LeanListener;
    try {
      listener = listenLean({
        address: local.address,
        port: local.port,
        tls: tlsCredentials(certificate),
        onConnection: (facts, session) => {
          acceptedConnections.set(session, this.#accept(facts));
          this.#sessions.add(session);
          session.on("close", () => this.#sessions.delete(session));
          session.on("error", (e: Error) => this.options.onSessionError?.(e, local));
        },
        onStream: (stream, headers, session) => {
          const conn = acceptedConnections.get(session);
          if (conn) void this.#onStream(stream, headers, conn);
          else stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        },
        onRefused: (e) => this.options.onSessionError?.(e, local),
        tuning: this.options.tuning,
      });
    } catch (e) {
      return Promise.reject(e);
    }
    const bound = { address: local.address, port: listener.port };
    this.#listeners.set(`${bound.address}:${bound.port}`, listener);
    return Promise.resolve(bound);
  }

  /** Checks the verified peer belongs here; throws to close the connection. */
  #accept(facts: TlsConnectionFacts): AcceptedConnection {
    const peerIdentity = identityFromSubjectAltName(facts.peerSubjectAltName);
    if (peerIdentity.trustDomain !== this.options.trustDomain) {
      throw new Error(`peer ${formatSpiffeId(peerIdentity)} is not in trust domain ${this.options.trustDomain}`);
    }
    return { peerIdentity, peerSerialNumber: facts.peerSerialNumber, peer: facts.peer, local: facts.local };
  }

  /** Presents a new certificate on the listener at `local` to connections made from now on. */
  rotateCertificate(local: SocketAddress, certificate: WorkloadCertificate): void {
    const server = this.#listeners.get(`${local.address}:${local.port}`);
    if (server && "rotate" in server) server.rotate(tlsCredentials(certificate));
    else server?.setSecureContext({ ...HBONE_TLS, ...tlsCredentials(certificate) });
  }

  /** Number of tunnels open now. */
  get openTunnels(): number {
    return this.#streams.size;
  }

  /** Stops the listener at `local`; open tunnels on it continue. */
  async unlisten(local: SocketAddress): Promise<void> {
    const key = `${local.address}:${local.port}`;
    const server = this.#listeners.get(key);
    if (!server) return;
    this.#listeners.delete(key);
    if ("rotate" in server) return server.stop();
    await new Promise<void>((r) => server.close(() => r()));
  }

  /** Stops accepting connections; open tunnels continue until they end or {@link close} is called. */
  stopAccepting(): void {
    for (const server of this.#listeners.values()) {
      if ("rotate" in server) server.stop();
      else server.close();
    }
    this.#listeners.clear();
  }

  /**
   * Ends at once the sessions whose peer `select` picks (a certificate revoked
   * since its handshake), with every tunnel they carry; returns how many.
   */
  closeSessionsWhere(select: (peer: { readonly identity: SpiffeId; readonly serialNumber?: string }) => boolean): number {
    let n = 0;
    for (const session of [...this.#sessions]) {
      const conn = acceptedConnections.get(session);
      if (!conn || !select({ identity: conn.peerIdentity, serialNumber: conn.peerSerialNumber })) continue;
      session.destroy();
      n++;
    }
    return n;
  }

  /** Stops accepting and resets every open tunnel. */
  close(): void {
    this.stopAccepting();
    for (const stream of this.#streams) stream.close(http2.constants.NGHTTP2_CANCEL);
    for (const session of this.#sessions) session.destroy();
  }

  #onSession(session: http2.ServerHttp2Session, local: SocketAddress): void {
    this.#sessions.add(session);
    session.on("close", () => this.#sessions.delete(session));
    session.on("error", (e) => this.options.onSessionError?.(e, local));
    const socket = session.socket as TLSSocket;
    try {
      const cert = socket.getPeerCertificate() as { subjectaltname?: string; serialNumber?: string } | undefined;
      acceptedConnections.set(session, this.#accept({
        peerSubjectAltName: cert?.subjectaltname,
        peerSerialNumber: cert?.serialNumber,
        peer: { address: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 },
        local: { address: socket.localAddress ?? "", port: socket.localPort ?? 0 },
      }));
    } catch (e) {
      this.options.onSessionError?.(e as Error, local);
      session.destroy();
    }
  }

  async #onStream(stream: ServerStream, headers: Record<string, string | string[] | undefined>, conn: AcceptedConnection): Promise<void> {
    const started = performance.now();
    this.#streams.add(stream);
    stream.on("close", () => this.#streams.delete(stream));
    stream.on("error", () => {});
    const report = (status: number, tunnel?: InboundTunnel, bytes = EMPTY, error?: Error) =>
      this.options.onTunnelClosed?.({ tunnel, status, bytes, durationMs: performance.now() - started, error });

    if (headers[":method"] !== "CONNECT") {
      stream.respond({ ":status": 405 }, { endStream: true });
      return report(405);
    }
    if (headers[":path"] !== undefined || headers[":scheme"] !== undefined) {
      // RFC 9113 8.5: a CONNECT with :path or :scheme is malformed.
      stream.close(http2.constants.NGHTTP2_PROTOCOL_ERROR);
      return report(400);
    }
    const destination = parseAuthority(header(headers[":authority"]));
    if (!destination) {
      stream.respond({ ":status": 400 }, { endStream: true });
      return report(400);
    }
    const tunnel: InboundTunnel = {
      ...conn,
      destination,
      baggage: parseBaggage(header(headers.baggage)),
      forwarded: parseForwarded(header(headers.forwarded)),
      traceparent: header(headers.traceparent),
      bytes: { sent: 0, received: 0 },
    };
    // A HEADERS and its RST_STREAM usually arrive together (rapid reset, CVE-2023-44487): let the
    // frames already read be handled before dialling, so a stream reset at once costs no connect.
    await new Promise((r) => setImmediate(r));
    if (stream.destroyed) return report(499, tunnel);
    let upstream: Duplex;
    try {
      upstream = await this.options.connectUpstream(tunnel);
    } catch (e) {
      const err = e instanceof HboneStatusError ? e : upstreamError(`upstream ${headers[":authority"]} failed`, e);
      if (!stream.destroyed) stream.respond({ ":status": err.status }, { endStream: true });
      return report(err.status, tunnel, EMPTY, err);
    }
    if (stream.destroyed) {
      upstream.destroy();
      return report(499, tunnel);
    }
    stream.respond({ ":status": 200 });
    const bytes = await copyBidirectional(stream, upstream, tunnel.bytes);
    report(200, tunnel, bytes, bytes.error);
  }
}

/** What each accepted session (of either stack) proved at its handshake. */
const acceptedConnections = new WeakMap<object, AcceptedConnection>();

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(",") : v;
}
