/**
 * A hostile HTTP/2 peer for end-to-end tests: mutual TLS to an HBONE server,
 * then whatever frames the test writes, byte for byte, with every frame the
 * server sends parsed and kept. It obeys nothing (windows, limits) unless the
 * test makes it.
 *
 * @module
 */
import * as tls from "node:tls";
import { joinPem, type WorkloadCertificate } from "../identity/mod.ts";
import {
  CONNECTION_PREFACE, encodeFrame, encodeSettings, type Frame, FrameReader, FrameType, readUint32,
} from "../hbone/h2/frames.ts";
import { HpackEncoder } from "../hbone/h2/hpack.ts";

/** How the server ended the connection, as far as the peer saw. */
export interface RawOutcome {
  /** The GOAWAY error code, if one came. */
  readonly goawayCode?: number;
  readonly closed: boolean;
}

export class RawH2Peer {
  /** Frames received, except the floods' answers (PING and SETTINGS ACKs), which are only counted. */
  readonly frames: Frame[] = [];
  readonly acks = { ping: 0, settings: 0 };
  /** DATA bytes received per stream (payloads are not kept). */
  readonly dataBytes = new Map<number, number>();
  readonly #socket: tls.TLSSocket;
  readonly #reader = new FrameReader(1 << 24);
  readonly #waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  readonly #encoder = new HpackEncoder();
  closed = false;
  /** Answer the server's PINGs, as a live peer would (off: a peer that went silent). */
  answerPings = false;
  readonly closedPromise: Promise<void>;

  private constructor(socket: tls.TLSSocket) {
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => {
      try {
        this.#reader.push(chunk, (f) => this.#keep({ ...f, payload: f.payload.slice() }), (p) => {
          this.dataBytes.set(p.streamId, (this.dataBytes.get(p.streamId) ?? 0) + p.data.length);
          if (p.last) this.#keep({ type: FrameType.DATA, flags: p.flags, streamId: p.streamId, payload: new Uint8Array(0) });
        });
      } catch { /* a hostile peer does not care */ }
    });
    this.closedPromise = new Promise((resolve) => {
      socket.on("close", () => {
        this.closed = true;
        resolve();
      });
    });
    socket.on("error", () => {});
  }

  /** Mutual TLS with `source`'s certificate, then the preface and an empty SETTINGS. */
  static connect(address: string, port: number, source: WorkloadCertificate): Promise<RawH2Peer> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host: address, port, cert: joinPem(source.chainPem), key: source.privateKeyPem, ca: joinPem(source.trustBundlePem),
        ALPNProtocols: ["h2"], checkServerIdentity: () => undefined, minVersion: "TLSv1.3",
      });
      socket.once("error", reject);
      socket.once("secureConnect", () => {
        socket.off("error", reject);
        socket.setNoDelay(true);
        const peer = new RawH2Peer(socket);
        peer.write(CONNECTION_PREFACE, encodeSettings([]));
        resolve(peer);
      });
    });
  }

  /** Writes frames in one socket write; resolves once the socket takes more. */
  write(...frames: Uint8Array[]): Promise<void> {
    if (this.closed) return Promise.resolve();
    const ok = this.#socket.write(Buffer.concat(frames));
    return ok ? Promise.resolve() : new Promise((r) => {
      const done = () => (this.#socket.off("close", done), r());
      this.#socket.once("drain", done);
      this.#socket.once("close", done);
    });
  }

  /** A HEADERS frame opening a CONNECT stream to `authority`. */
  connectHeaders(streamId: number, authority: string, flags = 0x4): Uint8Array {
    return encodeFrame(FrameType.HEADERS, flags, streamId, this.#encoder.encode([[":method", "CONNECT"], [":authority", authority]]));
  }

  /** Stops reading: the server's writes pile up (the kernel's buffers first). */
  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  /** The first frame (received or to come) matching, or rejects at the deadline. */
  waitFor(match: (f: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching frame within ${timeoutMs} ms (got ${this.frames.length} frames)`)), timeoutMs);
      this.#waiters.push({ match, resolve: (f) => (clearTimeout(timer), resolve(f)) });
      void this.closedPromise.then(() => {
        clearTimeout(timer);
        const f = this.frames.find(match);
        if (f) resolve(f);
        else reject(new Error(`connection closed without a matching frame (got ${this.frames.length} frames)`));
      });
    });
  }

  /** The GOAWAY's error code. */
  async goawayCode(timeoutMs?: number): Promise<number> {
    const f = await this.waitFor((f) => f.type === FrameType.GOAWAY, timeoutMs);
    return readUint32(f.payload, 4);
  }

  /** RST_STREAM codes received for `streamId`. */
  resetCode(streamId: number, timeoutMs?: number): Promise<number> {
    return this.waitFor((f) => f.type === FrameType.RST_STREAM && f.streamId === streamId, timeoutMs).then((f) => readUint32(f.payload, 0));
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #keep(frame: Frame): void {
    if (frame.flags & 0x1 && (frame.type === FrameType.PING || frame.type === FrameType.SETTINGS)) {
      this.acks[frame.type === FrameType.PING ? "ping" : "settings"]++;
      return;
    }
    if (frame.type === FrameType.PING && this.answerPings) void this.write(encodeFrame(FrameType.PING, 0x1, 0, frame.payload));
    this.frames.push(frame);
    for (const w of [...this.#waiters]) {
      if (w.match(frame)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(frame);
      }
    }
  }
}

/** A process's resident set size in bytes, from /proc (Linux). */
export async function residentBytes(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  return kb ? Number(kb[1]) * 1024 : 0;
}
