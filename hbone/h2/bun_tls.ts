/**
 * The lean HBONE layer's sockets: {@link H2Session} over Bun's native TLS
 * (`Bun.listen` / `Bun.connect`), without node:net, node:tls or node:http2 in
 * the data path. Bun only; Deno keeps node:http2 (see hbone/http2_stack.ts).
 */
import { Buffer } from "node:buffer";
import type { Socket, TCPSocketListener } from "bun";
import { splitPemCertificates, verifyCertificateChain } from "../../identity/mod.ts";
import { H2Session, type FrameTransport, type H2SessionOptions } from "./session.ts";
import type { HeaderRecord, H2Stream } from "./stream.ts";

/** PEM material for one side of mutual TLS. */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/** Who is at each end of an accepted or dialled connection. */
export interface TlsConnectionFacts {
  /** The peer certificate's `subjectaltname`, in node:tls's format. */
  readonly peerSubjectAltName: string | undefined;
  /** The peer certificate's serial number (hex, as node:tls gives it), for revocation checks. */
  readonly peerSerialNumber?: string;
  readonly peer: { address: string; port: number };
  readonly local: { address: string; port: number };
}

/** Before our SETTINGS a peer may send one default connection window of DATA (65,535) plus its preface and headers. */
const MAX_EARLY_BYTES = 128 * 1024;
const ALPN_H2 = Buffer.from([2, 0x68, 0x32]);
const TLS13 = "TLSv1.3";
// HBONE's suites (MESH_REFERENCE.md); Bun offers no cipher list option, so the handshake result is checked instead.
const HBONE_CIPHERS = new Set(["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"]);

/** What a lean listener or dialler may tune; the defaults are below. */
export type LeanTuning = Omit<H2SessionOptions, "role" | "transport" | "onStream"> & {
  /** A TLS handshake not done by then is dropped. Default 10 s. */
  readonly handshakeTimeoutMs?: number;
};

/** ztunnel-like clocks: a PING after 10 s of silence, given up after 20 s more; a server closes a connection idle for 10 minutes. */
const CLIENT_TUNING = { keepaliveIntervalMs: 10_000, keepaliveTimeoutMs: 20_000 } as const;
const SERVER_TUNING = { ...CLIENT_TUNING, idleTimeoutMs: 600_000, handshakeTimeoutMs: 10_000 } as const;

interface SocketState {
  session?: H2Session;
  handshakeTimer?: ReturnType<typeof setTimeout>;
  /** The socket closed (while its certificate was being checked, say). */
  closed?: boolean;
  transport?: BunSocketTransport;
  /** Bytes that arrived before the session existed; never seen, but losing the preface would be silent. */
  early?: Uint8Array[];
}

/** Gives a new session its socket, and any bytes that came before it. */
function attach(socket: Socket<SocketState>, session: H2Session, transport: BunSocketTransport): void {
  const early = socket.data?.early ?? [];
  socket.data = { session, transport };
  for (const chunk of early) session.receive(chunk);
}

/**
 * Small frames written in one tick (a response's HEADERS and DATA, a WINDOW_UPDATE)
 * go out as one socket write at the end of the tick, so as one TLS record and one
 * syscall: the waypoint's profile had 27 % of its CPU in native `write` for
 * requests of a few hundred bytes (docs/performance.md). Past one record's worth
 * the bytes are written at once, so bulk transfer and backpressure are unchanged.
 */
const COALESCE_BYTES = 16 * 1024;

class BunSocketTransport implements FrameTransport {
  readonly #socket: Socket<SocketState>;
  #backlog: Uint8Array[] = [];
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #endWhenDrained = false;

  constructor(socket: Socket<SocketState>) {
    this.#socket = socket;
  }

  write(bytes: Uint8Array): boolean {
    if (this.#backlog.length > 0) {
      this.#backlog.push(bytes);
      return false;
    }
    if (this.#pendingBytes + bytes.length < COALESCE_BYTES) {
      if (this.#pending.length === 0) queueMicrotask(() => this.#writePending());
      this.#pending.push(bytes);
      this.#pendingBytes += bytes.length;
      return true;
    }
    return this.#writeNow(this.#takePending(bytes));
  }

  #takePending(then?: Uint8Array): Uint8Array {
    const all = then ? [...this.#pending, then] : this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    return all.length === 1 ? all[0]! : Buffer.concat(all);
  }

  #writePending(): void {
    if (this.#pending.length === 0) return;
    const bytes = this.#takePending();
    if (this.#backlog.length > 0) this.#backlog.push(bytes);
    else this.#writeNow(bytes);
  }

  #writeNow(bytes: Uint8Array): boolean {
    const n = this.#socket.write(bytes);
    if (n === bytes.length) return true;
    this.#backlog.push(n > 0 ? bytes.subarray(n) : bytes);
    return false;
  }

  /** Writes what the socket refused before; true once nothing is left. */
  flush(): boolean {
    while (this.#backlog.length > 0) {
      const bytes = this.#backlog.length === 1 ? this.#backlog[0]! : Buffer.concat(this.#backlog);
      const n = this.#socket.write(bytes);
      if (n < bytes.length) {
        this.#backlog = [n > 0 ? bytes.subarray(n) : bytes];
        return false;
      }
      this.#backlog = [];
    }
    if (this.#endWhenDrained) this.#socket.end();
    return true;
  }

  end(): void {
    this.#writePending();
    if (this.#backlog.length > 0) this.#endWhenDrained = true;
    else this.#socket.end();
  }

  destroy(): void {
    this.#backlog = [];
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#socket.terminate();
  }
}

const handlers = {
  data(socket: Socket<SocketState>, chunk: Uint8Array) {
    const state = (socket.data ??= {});
    if (state.session) state.session.receive(chunk);
    else {
      // Bytes sent while the certificate is checked wait here, up to what HTTP/2 lets a peer send unasked.
      const early = (state.early ??= []);
      early.push(chunk);
      if (early.reduce((n, c) => n + c.length, 0) > MAX_EARLY_BYTES) socket.terminate();
    }
  },
  drain(socket: Socket<SocketState>) {
    if (socket.data?.transport?.flush()) socket.data.session?.transportDrained();
  },
  end(socket: Socket<SocketState>) {
    socket.data?.session?.transportClosed();
    socket.end();
  },
  close(socket: Socket<SocketState>, error?: Error) {
    clearTimeout(socket.data?.handshakeTimer);
    if (socket.data) socket.data.closed = true;
    socket.data?.session?.transportClosed(error);
  },
  error(socket: Socket<SocketState>, error: Error) {
    socket.data?.session?.transportClosed(error);
  },
};

function facts(socket: Socket<SocketState>): TlsConnectionFacts {
  const cert = socket.getPeerCertificate() as { subjectaltname?: string; serialNumber?: string } | undefined;
  return {
    peerSubjectAltName: cert?.subjectaltname,
    peerSerialNumber: cert?.serialNumber,
    peer: { address: socket.remoteAddress, port: socket.remotePort },
    local: { address: socket.localAddress, port: socket.localPort },
  };
}

/**
 * Bun's verdict is not the only check: the peer's leaf is verified here too, up
 * to our roots with each issuer's CA constraints (identity/verify.ts), before
 * any HTTP/2 byte is read. Bun hands over only the leaf, so the intermediates
 * tried are our own chain's: in one mesh, the same CA's.
 */
function verifyPeer(socket: Socket<SocketState>, tls: TlsMaterial): Promise<unknown> {
  const leaf = (socket.getPeerCertificate() as { raw?: Uint8Array } | undefined)?.raw;
  if (!leaf || leaf.length === 0) return Promise.reject(new Error("the peer presented no certificate"));
  return verifyCertificateChain([leaf, ...splitPemCertificates(tls.cert).slice(1)], { trustBundlePem: splitPemCertificates(tls.ca) });
}

/** Refuses anything but TLS 1.3 with HBONE's suites. */
function tlsParametersProblem(socket: Socket<SocketState>): string | undefined {
  const version = socket.getTLSVersion?.();
  if (version !== TLS13) return `TLS version ${version}, HBONE requires ${TLS13}`;
  const cipher = (socket.getCipher?.() as { standardName?: string; name?: string } | undefined);
  const name = cipher?.standardName ?? cipher?.name;
  if (name && !HBONE_CIPHERS.has(name)) return `cipher ${name} is not an HBONE suite`;
  return undefined;
}

/** An HTTP/2 server over Bun's TLS listener, with client certificates required. */
export interface LeanListener {
  readonly port: number;
  stop(): void;
  /** Presents new TLS material; connections accepted from now on use it. */
  rotate(tls: TlsMaterial): void;
}

/** Options for {@link listenLean}. */
export interface LeanListenOptions {
  readonly address: string;
  readonly port: number;
  readonly tls: TlsMaterial;
  /** Decides whether a verified peer may speak HTTP/2 here; a thrown error closes the connection. */
  readonly onConnection: (facts: TlsConnectionFacts, session: H2Session) => void;
  readonly onStream: (stream: H2Stream, headers: HeaderRecord, session: H2Session) => void;
  readonly onRefused?: (error: Error) => void;
  readonly tuning?: LeanTuning;
}

/** Listens for HBONE over Bun's TLS. Throws synchronously when the address is taken. */
export function listenLean(options: LeanListenOptions): LeanListener {
  const { handshakeTimeoutMs, ...tuning } = { ...SERVER_TUNING, ...options.tuning };
  const open = (tls: TlsMaterial, port: number): TCPSocketListener<SocketState> =>
    Bun.listen<SocketState>({
      hostname: options.address,
      port,
      data: {},
      // Certificates are required and checked in `handshake`, where the reason can be reported:
      // with rejectUnauthorized, Bun drops an untrusted or expired client silently.
      tls: { ...tls, requestCert: true, rejectUnauthorized: false, ALPNProtocols: ALPN_H2 } as never,
      socket: {
        ...handlers,
        open(socket) {
          // A peer that opens TCP and never finishes TLS would hold a socket forever.
          const handshakeTimer = setTimeout(() => {
            options.onRefused?.(new Error(`TLS handshake not done within ${handshakeTimeoutMs} ms`));
            socket.terminate();
          }, handshakeTimeoutMs);
          socket.data = { handshakeTimer };
          socket.setNoDelay(true);
        },
        handshake(socket, success, authorizationError) {
          clearTimeout(socket.data?.handshakeTimer);
          // Without a client certificate Bun reports "unable to get issuer certificate": say what happened.
          const noCertificate = !(socket.getPeerCertificate() as { raw?: Uint8Array } | undefined)?.raw?.length;
          const problem = noCertificate ? "the peer presented no certificate" : authorizationError?.message ?? (!success ? "handshake failed" : tlsParametersProblem(socket));
          if (problem) {
            options.onRefused?.(new Error(problem));
            return void socket.terminate();
          }
          verifyPeer(socket, tls).then(() => accepted(socket), (e: Error) => {
            options.onRefused?.(new Error(`client certificate refused: ${e.message}`));
            socket.terminate();
          });
        },
      },
    });
  /** A verified peer: its session starts, with any bytes that came during the checks. */
  const accepted = (socket: Socket<SocketState>) => {
    if (socket.data?.closed) return;
    const transport = new BunSocketTransport(socket);
    let session: H2Session | undefined;
    session = new H2Session({
      ...tuning,
      role: "server",
      transport,
      onStream: (stream, headers) => options.onStream(stream, headers, session!),
    });
    try {
      options.onConnection(facts(socket), session);
    } catch (e) {
      options.onRefused?.(e as Error);
      return session.destroy();
    }
    attach(socket, session, transport);
  };
  let listener = open(options.tls, options.port);
  const port = listener.port;
  return {
    port,
    stop: () => listener.stop(false),
    rotate(tls) {
      // Bun cannot swap a listener's certificate, so a new listener replaces it
      // in the same tick; accepted connections keep running on the old context.
      listener.stop(false);
      listener = open(tls, port);
    },
  };
}

/** Options for {@link connectLean}. */
export interface LeanConnectOptions {
  readonly address: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly tls: TlsMaterial;
  readonly timeoutMs: number;
  readonly tuning?: LeanTuning;
}

/**
 * Dials HBONE over Bun's TLS. The chain is verified against `tls.ca`; host
 * names are not checked (HBONE identifies servers by SPIFFE SAN only), so the
 * caller must check `facts.peerSubjectAltName`.
 */
export function connectLean(options: LeanConnectOptions): Promise<{ session: H2Session; facts: TlsConnectionFacts }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error("TLS handshake timed out")), options.timeoutMs);
    Bun.connect<SocketState>({
      hostname: options.address,
      port: options.port,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      data: {},
      // Verification happens in `handshake`: Bun would otherwise also demand a host name match.
      tls: { ...options.tls, rejectUnauthorized: false, ALPNProtocols: ALPN_H2 } as never,
      socket: {
        ...handlers,
        handshake(socket, _success, authorizationError) {
          const chainProblem = authorizationError && (authorizationError as { code?: string }).code !== "ERR_TLS_CERT_ALTNAME_INVALID" ? authorizationError.message : undefined;
          const problem = chainProblem ?? tlsParametersProblem(socket);
          // Settle first: terminate() runs the close handler at once, which would report a bare "closed".
          if (problem || settled) {
            fail(new Error(problem ?? "handshake after timeout"));
            return void socket.terminate();
          }
          verifyPeer(socket, options.tls).then(() => {
            if (settled) return void socket.terminate();
            socket.setNoDelay(true);
            const transport = new BunSocketTransport(socket);
            const session = new H2Session({ ...CLIENT_TUNING, ...options.tuning, role: "client", transport });
            attach(socket, session, transport);
            settled = true;
            clearTimeout(timer);
            resolve({ session, facts: facts(socket) });
          }, (e: Error) => {
            fail(new Error(`server certificate refused: ${e.message}`));
            socket.terminate();
          });
        },
        connectError(_socket, error) {
          fail(error);
        },
        close(socket, error) {
          if (!settled) fail(error ?? new Error("connection closed during the TLS handshake"));
          handlers.close(socket, error);
        },
      },
    }).catch((e: Error) => fail(e));
  });
}
