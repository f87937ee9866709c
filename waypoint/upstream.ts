// Connections from the waypoint to the endpoints it chose: HBONE to the
// endpoint's ztunnel with the waypoint's own identity (plain TCP for a workload
// outside the mesh), carrying `forwarded: for="<original source>"`. Upstream
// connections belong to one downstream connection (Envoy's
// connection_pool_per_downstream_connection), so each tunnel's `forwarded`
// names the right source; the TLS connections under them are pooled across all.
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { Duplex } from "node:stream";
import { type ConnectionPool, formatForwarded } from "../hbone/mod.ts";
import { spiffeId, type WorkloadCertificate } from "../identity/mod.ts";
import { runtimeName } from "../runtime/mod.ts";
import { endInsteadOfReset } from "./graceful_tunnel.ts";
import type { Endpoint } from "./state.ts";

/** Where an endpoint's ztunnel terminates HBONE. */
export const ZTUNNEL_HBONE_PORT = 15008;

/** Opens one byte stream to an endpoint. */
export class UpstreamDialer {
  constructor(
    private readonly pool: ConnectionPool,
    private readonly certificate: () => WorkloadCertificate | undefined,
    private readonly connectTimeoutMs: number,
  ) {}

  /** A tunnel to `endpoint` on behalf of `source` ("ip:port"); `traceparent` goes on the CONNECT. */
  async dial(endpoint: Endpoint, source: string, traceparent?: string): Promise<Duplex> {
    const w = endpoint.workload;
    if (w.tunnelProtocol === "NONE") return dialTcp(endpoint, this.connectTimeoutMs);
    const cert = this.certificate();
    if (!cert) throw new Error("the waypoint has no certificate yet");
    const { stream } = await this.pool.connect({
      source: cert,
      hboneAddress: { address: endpoint.address, port: ZTUNNEL_HBONE_PORT },
      expectedIdentities: [spiffeId(w.trustDomain, w.namespace, w.serviceAccount)],
      target: { address: endpoint.address, port: endpoint.port },
      headers: { forwarded: formatForwarded({ for: source }), ...(traceparent ? { traceparent } : {}) },
    });
    return stream;
  }
}

function dialTcp(endpoint: Endpoint, timeoutMs: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: endpoint.address, port: endpoint.port });
    const timer = setTimeout(() => socket.destroy(new Error(`connect to ${endpoint.key} timed out`)), timeoutMs);
    socket.once("connect", () => (clearTimeout(timer), resolve(socket)));
    socket.once("error", (e) => (clearTimeout(timer), reject(e)));
  });
}

/** The upstream HTTP connections of one downstream connection, per endpoint. */
export class UpstreamSessions {
  readonly #agents = new Map<string, http.Agent>();
  readonly #h2 = new Map<string, Promise<http2.ClientHttp2Session>>();
  #closed = false;
  #traceparent: string | undefined;

  constructor(private readonly dialer: UpstreamDialer, private readonly source: string) {}

  /** The trace context a tunnel opened from now on continues: the attempt that opens it. */
  useTraceparent(value: string | undefined): void {
    this.#traceparent = value;
  }

  /** A keep-alive HTTP/1.1 agent whose sockets are tunnels to `endpoint`. */
  agent(endpoint: Endpoint): http.Agent {
    let agent = this.#agents.get(endpoint.key);
    if (!agent) {
      agent = new TunnelAgent(() => this.dialer.dial(endpoint, this.source, this.#traceparent));
      this.#agents.set(endpoint.key, agent);
    }
    return agent;
  }

  /** An HTTP/2 (prior knowledge) session over one tunnel to `endpoint`, opened on first use. */
  h2(endpoint: Endpoint): Promise<http2.ClientHttp2Session> {
    let session = this.#h2.get(endpoint.key);
    if (!session) {
      session = this.dialer.dial(endpoint, this.source, this.#traceparent).then((stream) => {
        const s = http2.connect(`http://${endpoint.key}`, { createConnection: () => stream as never });
        const forget = () => {
          if (this.#h2.get(endpoint.key) === session) this.#h2.delete(endpoint.key);
        };
        s.on("close", forget);
        s.on("goaway", forget);
        s.on("error", forget);
        if (this.#closed) s.destroy();
        return s;
      });
      session.catch(() => this.#h2.delete(endpoint.key));
      this.#h2.set(endpoint.key, session);
    }
    return session;
  }

  /** A raw tunnel to `endpoint` (an upgraded connection owns it). */
  tunnel(endpoint: Endpoint): Promise<Duplex> {
    return this.dialer.dial(endpoint, this.source);
  }

  /** Closes every upstream connection (the downstream one has closed). */
  close(): void {
    this.#closed = true;
    for (const a of this.#agents.values()) a.destroy();
    for (const s of this.#h2.values()) s.then((x) => x.close(), () => {});
    this.#agents.clear();
    this.#h2.clear();
  }
}

/**
 * Upstream HTTP/1.1 connections are kept alive, except on Deno: there a
 * node:http2 client stream stops delivering writes once it has been read from
 * (docs/waypoint.md), so each request gets its own tunnel (a new CONNECT
 * stream on the pooled TLS connection), ended rather than reset when the
 * response is done (graceful_tunnel.ts).
 */
const KEEP_UPSTREAM_ALIVE = runtimeName !== "deno";

/** An http.Agent that dials tunnels instead of TCP. */
class TunnelAgent extends http.Agent {
  constructor(private readonly open: () => Promise<Duplex>) {
    super({ keepAlive: KEEP_UPSTREAM_ALIVE, maxSockets: 64, maxFreeSockets: 8, scheduling: "lifo" });
  }
  override createConnection(_options: unknown, callback?: (err: Error | null, stream: Duplex) => void): Duplex {
    this.open().then((stream) => callback!(null, adaptSocket(KEEP_UPSTREAM_ALIVE ? stream : endInsteadOfReset(stream))), (e: Error) => callback!(e, undefined as never));
    return undefined as never;
  }
}

/** node:http's client calls socket-only methods; a tunnel stream has none of them. */
function adaptSocket(stream: Duplex): Duplex {
  const s = stream as Duplex & Record<string, unknown>;
  for (const m of ["setKeepAlive", "setNoDelay", "setTimeout", "ref", "unref"]) {
    if (typeof s[m] !== "function") s[m] = () => s;
  }
  return stream;
}
