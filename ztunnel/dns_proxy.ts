// Port 15053 on loopback: the DNS proxy captured workloads' queries are
// redirected to (udp and tcp 53, docs/capture.md). Mesh names are answered from
// state (dns_answer.ts); other names go to the upstream resolver, one query at
// a time per client message, bounded in count and time. Only this host can
// reach the listener, every answer over UDP fits in 512 bytes, and a response
// arriving as a query is dropped, so it cannot amplify or reflect.
import * as dgram from "node:dgram";
import * as net from "node:net";
import type { Logger } from "../telemetry/mod.ts";
import { answerQuery } from "./dns_answer.ts";
import { DnsRcode, encodeResponse, MAX_QUERY_BYTES, parseQuery } from "./dns_message.ts";
import type { ProxyState } from "./state.ts";

/** Options for {@link DnsProxy}. */
export interface DnsProxyOptions {
  readonly state: () => ProxyState;
  readonly clusterDomain: string;
  /** Where other names go ("ip" or "ip:port"); undefined refuses them. */
  readonly upstream?: string;
  readonly log: Logger;
  /** Forwarded queries in flight at most; more are answered SERVFAIL. Default 256. */
  readonly maxInFlight?: number;
  readonly forwardTimeoutMs?: number;
}

const TCP_IDLE_MS = 10_000;
const MAX_TCP_CONNECTIONS = 128;

/** The DNS proxy of one node. */
export class DnsProxy {
  readonly #udp = dgram.createSocket("udp4");
  readonly #tcp: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #inFlight = 0;

  constructor(private readonly options: DnsProxyOptions) {
    this.#udp.on("message", (msg, from) => void this.#answer(msg, MAX_QUERY_BYTES, 512).then((out) => out && this.#udp.send(out, from.port, from.address)));
    this.#udp.on("error", (e) => options.log.warn("dns", "udp error", { error: e.message }));
    this.#tcp = net.createServer((s) => this.#acceptTcp(s));
    this.#tcp.maxConnections = MAX_TCP_CONNECTIONS;
  }

  /** Binds UDP and TCP on `address:port`. */
  async listen(address: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#udp.once("error", reject);
      this.#udp.bind(port, address, () => (this.#udp.off("error", reject), resolve()));
    });
    await new Promise<void>((resolve, reject) => {
      this.#tcp.once("error", reject);
      this.#tcp.listen(port, address, () => (this.#tcp.off("error", reject), resolve()));
    });
  }

  close(): void {
    this.#udp.close();
    this.#tcp.close();
    for (const s of this.#sockets) s.destroy();
  }

  /** The answer to one message, or undefined to say nothing. */
  async #answer(msg: Uint8Array, maxQuery: number, limit: number): Promise<Uint8Array | undefined> {
    const parsed = msg.length > maxQuery ? { kind: "drop" as const, message: "too large" } : parseQuery(msg);
    if (parsed.kind === "drop") return undefined;
    if (parsed.kind === "error") return encodeResponse({ id: parsed.id, recursionDesired: false, rcode: parsed.rcode, authoritative: false, answers: [] });
    const d = answerQuery(this.options.state(), parsed.query, this.options.clusterDomain, !!this.options.upstream);
    if (d.kind === "answer") return encodeResponse(d.response, limit);
    const servfail = () => encodeResponse({ ...parsed.query, rcode: DnsRcode.servFail, authoritative: false, answers: [] });
    if (this.#inFlight >= (this.options.maxInFlight ?? 256)) return servfail();
    this.#inFlight++;
    try {
      const reply = await this.#forward(msg, parsed.query.id);
      // The upstream's answer to a UDP query is sized for that client already; cap it anyway.
      return reply && reply.length <= limit ? reply : reply ? encodeResponse({ ...parsed.query, rcode: 0, authoritative: false, answers: [] }, 12) : servfail();
    } finally {
      this.#inFlight--;
    }
  }

  /** Sends the query as it came to the upstream over UDP; resolves with its answer or undefined. */
  #forward(query: Uint8Array, id: number): Promise<Uint8Array | undefined> {
    const [host = "", port = "53"] = this.options.upstream!.split(/:(?=\d+$)/);
    return new Promise((resolve) => {
      const socket = dgram.createSocket(net.isIP(host) === 6 ? "udp6" : "udp4");
      const done = (r: Uint8Array | undefined) => {
        clearTimeout(timer);
        socket.close();
        resolve(r);
      };
      const timer = setTimeout(() => done(undefined), this.options.forwardTimeoutMs ?? 2000);
      socket.on("error", () => done(undefined));
      socket.on("message", (m, from) => {
        if (from.address !== host || m.length < 12 || ((m[0]! << 8) | m[1]!) !== id) return;
        done(new Uint8Array(m));
      });
      socket.send(query, Number(port), host);
    });
  }

  #acceptTcp(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    socket.on("error", () => {});
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    let buf = Buffer.alloc(0);
    let busy = false;
    const pump = async () => {
      if (busy) return;
      busy = true;
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (len > MAX_QUERY_BYTES) return void socket.destroy();
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        const out = await this.#answer(msg, MAX_QUERY_BYTES, 65535);
        if (!out) return void socket.destroy();
        const framed = Buffer.alloc(2 + out.length);
        framed.writeUInt16BE(out.length, 0);
        framed.set(out, 2);
        socket.write(framed);
      }
      busy = false;
      if (buf.length >= 2) void pump();
    };
    socket.on("data", (d: Buffer) => {
      if (buf.length + d.length > 2 + MAX_QUERY_BYTES + 2) return void socket.destroy();
      buf = Buffer.concat([buf, d]);
      void pump();
    });
  }
}

/**
 * The first nameserver in a resolv.conf text. A loopback stub (127.0.0.53) is
 * fine: the ztunnel's own queries are not captured, so they cannot loop back here.
 */
export function upstreamFromResolvConf(text: string): string | undefined {
  for (const line of text.split("\n")) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && net.isIP(m[1]!) !== 0) return m[1];
  }
  return undefined;
}
