import * as http2 from "node:http2";
import * as tls from "node:tls";
import { formatSpiffeId, type SpiffeId, sameSpiffeId, type WorkloadCertificate } from "../identity/mod.ts";
import { HboneError, HboneStatusError } from "./errors.ts";
import { formatAuthority, type SocketAddress } from "./headers.ts";
import { HBONE_TLS, identityFromSubjectAltName, peerIdentityOf, tlsCredentials } from "./tls.ts";
import { connectLean, type LeanTuning } from "./h2/bun_tls.ts";
import { defaultHttp2Stack, type Http2Stack, type TunnelStream } from "./http2_stack.ts";

/** One tunnel to open: who we are, where to, whom we expect there, and what to ask for. */
export interface HboneConnectRequest {
  /** The source workload's certificate, presented as the client certificate. */
  readonly source: WorkloadCertificate;
  /** The HBONE endpoint to dial (the destination's `address:15008`, or a waypoint's). */
  readonly hboneAddress: SocketAddress;
  /** The server must present one of these; HBONE checks SANs, never host names. */
  readonly expectedIdentities: readonly SpiffeId[];
  /** The `:authority`: the chosen endpoint, or the service VIP when going to a waypoint. */
  readonly target: SocketAddress;
  /** Extra request headers: baggage, forwarded, traceparent. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Local address to dial from: the source workload's own address, so the far
   * side sees which workload connected (as ztunnel's in-pod sockets do).
   */
  readonly localAddress?: string;
}

/** An open tunnel: a duplex byte stream to the destination. */
export interface HboneTunnel {
  readonly stream: TunnelStream;
  /** Identity the server proved. */
  readonly peerIdentity: SpiffeId;
  /** The server certificate's serial (hex, as the TLS stack gives it), when exposed. */
  readonly peerSerialNumber?: string;
  /** Which pooled TLS connection carries it (for diagnostics). */
  readonly connectionId: number;
}

/** What a pooled connection's server proved, as {@link ConnectionPool.closeWhere} sees it. */
export interface PooledPeer {
  readonly identity: SpiffeId;
  readonly serialNumber?: string;
}

/** Tuning for {@link ConnectionPool}. */
export interface ConnectionPoolOptions {
  /** Streams per HTTP/2 connection before another is opened. Default 100 (ztunnel's). */
  readonly maxStreamsPerConnection?: number;
  /** A connection with no streams for this long is closed. Default 5 minutes. */
  readonly idleTimeoutMs?: number;
  /** TLS handshake deadline. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** HTTP/2 implementation. Default {@link defaultHttp2Stack}. */
  readonly http2?: Http2Stack;
  /** Lean stack only: keepalive and limits of each connection (hbone/h2/bun_tls.ts has the defaults). */
  readonly tuning?: LeanTuning;
  /**
   * A server certificate serial this returns true for is refused after the
   * handshake (a revoked node's certificate), before any stream is opened.
   */
  readonly isRevokedSerial?: (serial: string | undefined) => boolean;
}

/** Counters for tests, metrics and the admin API. */
export interface ConnectionPoolStats {
  /** TLS connections opened since the pool was made. */
  readonly connectionsOpened: number;
  /** TLS connections open now. */
  readonly openConnections: number;
  /** Tunnels open now. */
  readonly activeStreams: number;
}

/** What the pool needs of an HTTP/2 client session, from either stack. */
interface ClientSession {
  request(headers: Record<string, string>, options: { endStream: boolean }): TunnelStream;
  readonly remoteSettings: { readonly maxConcurrentStreams?: number };
  /** Lean: stream ids left; node:http2 tells the next id in `state`. */
  readonly streamIdsLeft?: number;
  readonly state?: { readonly nextStreamID?: number };
  readonly destroyed: boolean;
  readonly closed: boolean;
  close(): void;
  destroy(): void;
  on(event: "error" | "goaway" | "close", listener: () => void): unknown;
}

interface PooledConnection {
  readonly id: number;
  readonly key: string;
  /** Streams open or promised to callers waiting for the handshake. */
  reserved: number;
  /** Of those, the ones not yet opened: each still needs a stream id. */
  pending: number;
  session?: ClientSession;
  peerIdentity?: SpiffeId;
  peerSerialNumber?: string;
  readonly ready: Promise<void>;
  closing: boolean;
  idleTimer?: ReturnType<typeof setTimeout>;
}

/**
 * HBONE client: a pool of HTTP/2-over-mTLS connections keyed by
 * {source identity, destination identities, destination address, local address}, each carrying
 * up to `maxStreamsPerConnection` CONNECT streams.
 *
 * @example
 * ```ts
 * const pool = new ConnectionPool();
 * const { stream } = await pool.connect({ source, hboneAddress, expectedIdentities: [dst], target });
 * socket.pipe(stream).pipe(socket);
 * ```
 */
export class ConnectionPool {
  readonly #byKey = new Map<string, PooledConnection[]>();
  readonly #maxStreams: number;
  readonly #idleTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #stack: Http2Stack;
  readonly #tuning: LeanTuning | undefined;
  readonly #isRevokedSerial: (serial: string | undefined) => boolean;
  #nextId = 1;
  #opened = 0;
  #active = 0;

  constructor(options: ConnectionPoolOptions = {}) {
    this.#maxStreams = options.maxStreamsPerConnection ?? 100;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.#stack = options.http2 ?? defaultHttp2Stack();
    this.#tuning = options.tuning;
    this.#isRevokedSerial = options.isRevokedSerial ?? (() => false);
  }

  /** The HTTP/2 implementation this pool dials with. */
  get http2(): Http2Stack {
    return this.#stack;
  }

  /** Current counters. */
  stats(): ConnectionPoolStats {
    let open = 0;
    for (const list of this.#byKey.values()) open += list.filter((c) => c.session && !c.closing).length;
    return { connectionsOpened: this.#opened, openConnections: open, activeStreams: this.#active };
  }

  /**
   * Opens a CONNECT tunnel, reusing a pooled connection with room for one more stream.
   * Rejects with {@link HboneStatusError} when the server answers other than 200.
   */
  async connect(request: HboneConnectRequest): Promise<HboneTunnel> {
    const conn = this.#reserve(request);
    let counted = false;
    let pending = true;
    try {
      await conn.ready;
      pending = false;
      conn.pending--;
      const stream: TunnelStream = conn.session!.request({
        ":method": "CONNECT",
        ":authority": formatAuthority(request.target),
        ...request.headers,
      }, { endStream: false });
      counted = true;
      this.#active++;
      stream.once("close", () => this.#release(conn));
      const status = await new Promise<number>((resolve, reject) => {
        stream.once("response", (h: Record<string, unknown>) => resolve(Number(h[":status"])));
        stream.once("error", reject);
        stream.once("close", () => reject(new HboneError("ERR_HBONE_CONNECT", `stream to ${formatAuthority(request.target)} closed before a response (code ${stream.rstCode})`)));
      });
      if (status !== 200) {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        throw new HboneStatusError("ERR_HBONE_STATUS", status, `HBONE CONNECT to ${formatAuthority(request.target)} via ${formatAuthority(request.hboneAddress)} answered ${status}`);
      }
      return { stream, peerIdentity: conn.peerIdentity!, peerSerialNumber: conn.peerSerialNumber, connectionId: conn.id };
    } catch (e) {
      if (pending) conn.pending--;
      if (!counted) this.#unreserve(conn);
      throw e;
    }
  }

  /**
   * Closes at once the connections whose server `select` picks (a certificate
   * revoked since the handshake), resetting their tunnels; returns how many.
   */
  closeWhere(select: (peer: PooledPeer) => boolean): number {
    let n = 0;
    for (const list of [...this.#byKey.values()]) {
      for (const c of [...list]) {
        if (!c.peerIdentity || !select({ identity: c.peerIdentity, serialNumber: c.peerSerialNumber })) continue;
        this.#drop(c, true);
        n++;
      }
    }
    return n;
  }

  /** Closes every connection; open tunnels are reset. */
  close(): void {
    for (const list of this.#byKey.values()) for (const c of list) this.#drop(c, true);
    this.#byKey.clear();
  }

  #reserve(request: HboneConnectRequest): PooledConnection {
    const key = poolKey(request);
    const list = this.#byKey.get(key) ?? [];
    this.#byKey.set(key, list);
    const limit = (c: PooledConnection) =>
      Math.min(this.#maxStreams, c.session?.remoteSettings.maxConcurrentStreams ?? this.#maxStreams,
        // Only as many new tunnels as it has stream ids not yet promised.
        c.session ? c.reserved - c.pending + streamIdsLeft(c.session) : Infinity);
    // A connection out of stream ids closes once its streams end; new tunnels go to another.
    for (const c of [...list]) if (c.session && !c.closing && c.pending === 0 && streamIdsLeft(c.session) === 0) this.#drop(c, false);
    const room = list.find((c) => !c.closing && c.reserved < limit(c));
    if (room) {
      room.reserved++;
      room.pending++;
      clearTimeout(room.idleTimer);
      return room;
    }
    const conn: PooledConnection = {
      id: this.#nextId++,
      key,
      reserved: 1,
      pending: 1,
      closing: false,
      ready: Promise.resolve(),
    };
    (conn as { ready: Promise<void> }).ready = this.#open(conn, request);
    // A failed handshake must not leave an unhandled rejection when nobody else waits.
    conn.ready.catch(() => this.#drop(conn, true));
    list.push(conn);
    return conn;
  }

  async #open(conn: PooledConnection, request: HboneConnectRequest): Promise<void> {
    if (this.#stack === "lean") return this.#openLean(conn, request);
    const { address, port } = request.hboneAddress;
    const socket = tls.connect({
      ...HBONE_TLS,
      ...tlsCredentials(request.source),
      host: address,
      port,
      localAddress: request.localAddress,
      // No SNI and no host-name check: HBONE servers are identified by SPIFFE SAN only.
      servername: undefined,
      checkServerIdentity: () => undefined,
      rejectUnauthorized: true,
    } as tls.ConnectionOptions);
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new HboneError("ERR_HBONE_CONNECT", `TLS handshake with ${formatAuthority(request.hboneAddress)} timed out`));
      }, this.#connectTimeoutMs);
      socket.once("secureConnect", () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once("error", (cause) => {
        clearTimeout(timer);
        reject(new HboneError("ERR_HBONE_CONNECT", `cannot reach HBONE ${formatAuthority(request.hboneAddress)}: ${cause.message}`, { cause }));
      });
    });
    try {
      conn.peerIdentity = expectedPeer(request, peerIdentityOf(socket));
      conn.peerSerialNumber = this.#unrevoked(request, (socket.getPeerCertificate() as { serialNumber?: string } | undefined)?.serialNumber);
    } catch (e) {
      socket.destroy();
      throw e;
    }
    const session = http2.connect(`https://${formatAuthority(request.hboneAddress)}`, { createConnection: () => socket });
    this.#adopt(conn, session);
    await new Promise<void>((resolve, reject) => {
      if (session.connecting === false && (session as { remoteSettings?: unknown }).remoteSettings) return resolve();
      session.once("connect", () => resolve());
      session.once("error", reject);
    });
  }

  async #openLean(conn: PooledConnection, request: HboneConnectRequest): Promise<void> {
    const { address, port } = request.hboneAddress;
    const { session, facts } = await connectLean({
      address,
      port,
      localAddress: request.localAddress,
      tls: tlsCredentials(request.source),
      timeoutMs: this.#connectTimeoutMs,
      tuning: this.#tuning,
    }).catch((cause: Error) => {
      throw new HboneError("ERR_HBONE_CONNECT", `cannot reach HBONE ${formatAuthority(request.hboneAddress)}: ${cause.message}`, { cause });
    });
    try {
      conn.peerIdentity = expectedPeer(request, identityFromSubjectAltName(facts.peerSubjectAltName));
      conn.peerSerialNumber = this.#unrevoked(request, facts.peerSerialNumber);
    } catch (e) {
      session.destroy();
      throw e;
    }
    this.#adopt(conn, session);
    // The SETTINGS may have arrived with the handshake, before this continuation ran.
    if (session.settingsReceived) return;
    await new Promise<void>((resolve, reject) => {
      session.once("connect", () => resolve());
      session.once("close", () => reject(new HboneError("ERR_HBONE_CONNECT", `HBONE ${formatAuthority(request.hboneAddress)} closed before its SETTINGS`)));
    });
  }

  /** The server's serial, unless it is revoked. */
  #unrevoked(request: HboneConnectRequest, serial: string | undefined): string | undefined {
    if (this.#isRevokedSerial(serial)) {
      throw new HboneError("ERR_HBONE_PEER_REVOKED", `HBONE ${formatAuthority(request.hboneAddress)} presented certificate serial ${serial}, which is revoked`);
    }
    return serial;
  }

  #adopt(conn: PooledConnection, session: ClientSession): void {
    conn.session = session;
    this.#opened++;
    session.on("error", () => this.#drop(conn, false));
    session.on("goaway", () => this.#drop(conn, false));
    session.on("close", () => this.#drop(conn, false));
  }

  #release(conn: PooledConnection): void {
    this.#active--;
    this.#unreserve(conn);
  }

  #unreserve(conn: PooledConnection): void {
    conn.reserved--;
    if (conn.reserved === 0 && !conn.closing) {
      clearTimeout(conn.idleTimer);
      conn.idleTimer = setTimeout(() => this.#drop(conn, false), this.#idleTimeoutMs);
      (conn.idleTimer as { unref?: () => void }).unref?.();
    }
  }

  /** Takes a connection out of the pool; graceful lets its open streams finish. */
  #drop(conn: PooledConnection, force: boolean): void {
    clearTimeout(conn.idleTimer);
    if (!conn.closing) {
      conn.closing = true;
      const list = this.#byKey.get(conn.key);
      if (list) {
        const i = list.indexOf(conn);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.#byKey.delete(conn.key);
      }
    }
    if (!conn.session || conn.session.destroyed) return;
    if (force) conn.session.destroy();
    else if (!conn.session.closed) conn.session.close();
  }
}

const MAX_STREAM_ID = 2 ** 31 - 1;

/** Streams a client session can still open before its stream ids run out (RFC 9113 5.1.1). */
function streamIdsLeft(session: ClientSession): number {
  if (session.streamIdsLeft !== undefined) return session.streamIdsLeft;
  const next = session.state?.nextStreamID;
  return next === undefined ? Infinity : Math.max(0, Math.floor((MAX_STREAM_ID - next) / 2) + 1);
}

/** The server's proven identity, if it is one the request expects. */
function expectedPeer(request: HboneConnectRequest, peer: SpiffeId): SpiffeId {
  if (!request.expectedIdentities.some((id) => sameSpiffeId(id, peer))) {
    throw new HboneError(
      "ERR_HBONE_PEER_IDENTITY",
      `HBONE ${formatAuthority(request.hboneAddress)} presented ${formatSpiffeId(peer)}, expected ${request.expectedIdentities.map(formatSpiffeId).join(" or ")}`,
    );
  }
  return peer;
}

function poolKey(r: HboneConnectRequest): string {
  const expected = r.expectedIdentities.map(formatSpiffeId).sort().join(",");
  return `${formatSpiffeId(r.source.identity)}|${expected}|${formatAuthority(r.hboneAddress)}|${r.localAddress ?? ""}`;
}
