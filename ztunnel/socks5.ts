// A SOCKS5 listener for one workload (the listener a connection arrives on is
// its source). It speaks just enough of RFC 1928 — CONNECT, with RFC 1929
// username/password when the listener authenticates (only the workload holds
// its secret) — then hands the destination to the outbound path and copies bytes.
import * as net from "node:net";
import type { Duplex } from "node:stream";
import { copyBidirectional, type CopyResult, type SocketAddress } from "../hbone/mod.ts";
import { formatPasswordStatus, parsePasswordRequest } from "./socks5_password.ts";
import { formatMethodSelection, formatReply, type Parsed, parseGreeting, parseRequest, type SocksReplyCode, SocksReply, type SocksRequest } from "./socks5_protocol.ts";

/** An outbound connection the handler has opened, ready for bytes. */
export interface OutboundSession {
  readonly upstream: Duplex;
  /** Called once, when both directions are done. */
  readonly onClosed: (result: CopyResult) => void;
}

/** A refusal the handler maps to a SOCKS reply code. */
export interface SocksRefusal {
  readonly reply: SocksReplyCode;
  readonly message: string;
}

/** Opens the outbound side for a request, or refuses it. */
export type SocksConnectHandler = (request: SocksRequest, client: SocketAddress) => Promise<OutboundSession | SocksRefusal>;

/** Options for {@link Socks5Listener}. */
export interface Socks5ListenerOptions {
  readonly handler: SocksConnectHandler;
  /** A client that has not finished the handshake by then is closed. Default 10 s. */
  readonly handshakeTimeoutMs?: number;
  /** Who may use this listener: undefined when `client` may, else why not. Checked on accept. */
  readonly admitClient?: (client: SocketAddress) => string | undefined;
  /**
   * When set, clients must authenticate with username/password (RFC 1929):
   * undefined when the pair is right, else why not.
   */
  readonly authenticate?: (username: string, password: string) => string | undefined;
  /** `kind` is "client" for a refused client (not on this host, no or wrong credentials), "request" for bad input. */
  readonly onRefused?: (message: string, client: SocketAddress, kind: "client" | "request") => void;
}

/** SOCKS5 on one address. */
export class Socks5Listener {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();

  constructor(private readonly options: Socks5ListenerOptions) {
    this.#server = net.createServer({ allowHalfOpen: true, noDelay: true }, (s) => this.#accept(s));
  }

  /** Binds and resolves with the bound address. */
  listen(address: string, port: number): Promise<SocketAddress> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, address, () => {
        this.#server.off("error", reject);
        const a = this.#server.address() as net.AddressInfo;
        resolve({ address: a.address, port: a.port });
      });
    });
  }

  /** Stops accepting; connections in progress continue. */
  stopAccepting(): Promise<void> {
    return new Promise((r) => this.#server.close(() => r()));
  }

  /** Stops accepting and closes every connection. */
  close(): void {
    this.#server.close();
    for (const s of this.#sockets) s.destroy();
  }

  #accept(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    socket.on("error", () => {});
    const client = { address: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
    const refused = this.options.admitClient?.(client);
    if (refused !== undefined) {
      this.options.onRefused?.(refused, client, "client");
      socket.destroy();
      return;
    }
    void this.#handshake(socket, client).catch(() => socket.destroy());
  }

  async #handshake(socket: net.Socket, client: SocketAddress): Promise<void> {
    const reader = new HandshakeReader(socket, this.options.handshakeTimeoutMs ?? 10_000);
    const refuse = (reply: SocksReplyCode | null, message: string, kind: "client" | "request" = "request") => {
      this.options.onRefused?.(message, client, kind);
      // Fully close once the reply is out: the listener allows half-open sockets.
      if (reply === null) socket.destroy();
      else socket.end(formatReply(reply), () => socket.destroy());
      reader.release();
    };
    const greeting = await reader.next(parseGreeting);
    if (!greeting) return void reader.release();
    if (greeting.kind === "refuse") return refuse(greeting.reply, greeting.message);
    const authenticate = this.options.authenticate;
    if (authenticate ? !greeting.passwordOffered : !greeting.noAuthOffered) {
      this.options.onRefused?.(authenticate ? "no username/password offered (this workload's credentials file has them)" : "no acceptable method", client, authenticate ? "client" : "request");
      socket.end(formatMethodSelection("refuse"), () => socket.destroy());
      return void reader.release();
    }
    socket.write(formatMethodSelection(authenticate ? "password" : "none"));
    if (authenticate) {
      const credentials = await reader.next(parsePasswordRequest);
      if (!credentials) return void reader.release();
      if (credentials.kind === "refuse") return refuse(null, credentials.message, "client");
      const wrong = authenticate(credentials.username, credentials.password);
      if (wrong !== undefined) {
        this.options.onRefused?.(wrong, client, "client");
        socket.end(formatPasswordStatus(false), () => socket.destroy());
        return void reader.release();
      }
      socket.write(formatPasswordStatus(true));
    }
    const request = await reader.next(parseRequest);
    if (!request) return void reader.release();
    if (request.kind === "refuse") return refuse(request.reply, request.message);
    const rest = reader.release();
    socket.pause();
    let outcome: OutboundSession | SocksRefusal;
    try {
      outcome = await this.options.handler(request, client);
    } catch (e) {
      outcome = { reply: SocksReply.generalFailure, message: (e as Error).message };
    }
    if ("reply" in outcome) return refuse(outcome.reply, outcome.message);
    if (socket.destroyed) {
      outcome.upstream.destroy();
      outcome.onClosed({ sent: 0, received: 0, error: new Error("client went away before the upstream was ready") });
      return;
    }
    const bound = outcome.upstream as { localAddress?: string; localPort?: number };
    socket.write(formatReply(SocksReply.succeeded, bound.localAddress ? { address: bound.localAddress, port: bound.localPort ?? 0 } : undefined));
    if (rest.length > 0) socket.unshift(rest);
    socket.resume();
    outcome.onClosed(await copyBidirectional(socket, outcome.upstream));
  }
}

/** Accumulates handshake bytes until a parser is satisfied, within a deadline. */
class HandshakeReader {
  #buf: Uint8Array = new Uint8Array(0);
  #wake: (() => void) | undefined;
  #done = false;
  readonly #timer: ReturnType<typeof setTimeout>;
  readonly #onData = (d: Buffer) => {
    const next = new Uint8Array(this.#buf.length + d.length);
    next.set(this.#buf);
    next.set(d, this.#buf.length);
    this.#buf = next;
    this.#wake?.();
  };
  readonly #onEnd = () => {
    this.#done = true;
    this.#wake?.();
  };

  constructor(private readonly socket: net.Socket, timeoutMs: number) {
    socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("close", this.#onEnd);
    this.#timer = setTimeout(() => {
      this.#done = true;
      socket.destroy();
      this.#wake?.();
    }, timeoutMs);
  }

  /** Resolves with the parse result, or undefined when the client left or timed out first. */
  async next<T>(parse: (b: Uint8Array) => Parsed<T>): Promise<({ kind: "ok"; consumed: number } & T) | { kind: "refuse"; reply: SocksReplyCode | null; message: string } | undefined> {
    for (;;) {
      const r = parse(this.#buf);
      if (r.kind === "ok") {
        this.#buf = this.#buf.subarray(r.consumed);
        return r;
      }
      if (r.kind === "refuse") return r;
      if (this.#done) {
        this.socket.destroy();
        return undefined;
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  /** Stops reading handshake bytes; returns what arrived beyond the handshake. */
  release(): Buffer {
    clearTimeout(this.#timer);
    this.socket.off("data", this.#onData);
    this.socket.off("end", this.#onEnd);
    this.socket.off("close", this.#onEnd);
    return Buffer.from(this.#buf);
  }
}
