// Helpers for the H2Session tests: an in-memory transport, a connected pair,
// and a server fed raw frames as a misbehaving peer would send them.
import {
  CONNECTION_PREFACE, concatBytes, encodeFrame, encodeSettings, Flag, type Frame, FrameReader, FrameType, readUint32,
} from "./frames.ts";
import { HpackEncoder } from "./hpack.ts";
import { type FrameTransport, H2Session, type H2SessionOptions } from "./session.ts";
import type { H2Stream, HeaderRecord } from "./stream.ts";

/** Bytes written by a session, delivered to `deliver` on a later microtask like a socket would. */
export class MemoryTransport implements FrameTransport {
  written: Uint8Array[] = [];
  ended = false;
  destroyed = false;
  /** A peer that does not read: every write reports a backlog. */
  stalled = false;
  deliver?: (bytes: Uint8Array) => void;
  onEnd?: () => void;
  write(bytes: Uint8Array): boolean {
    this.written.push(bytes);
    const to = this.deliver;
    if (to) queueMicrotask(() => to(bytes));
    return !this.stalled;
  }
  end(): void {
    this.ended = true;
    queueMicrotask(() => this.onEnd?.());
  }
  destroy(): void {
    this.destroyed = true;
    this.end();
  }
  frames(): Frame[] {
    const out: Frame[] = [];
    const reader = new FrameReader(1 << 24);
    let bytes = concatBytes(this.written);
    if (bytes.length >= CONNECTION_PREFACE.length && bytes[0] === 0x50) bytes = bytes.subarray(CONNECTION_PREFACE.length);
    reader.push(bytes, (f) => out.push({ ...f, payload: f.payload.slice() }), (p) => out.push({ type: FrameType.DATA, flags: p.last ? p.flags : 0, streamId: p.streamId, payload: p.data.slice() }));
    return out;
  }
}

export const tick = () => new Promise((r) => setTimeout(r, 5));

export function pair(server: Partial<H2SessionOptions> = {}, client: Partial<H2SessionOptions> = {}) {
  const streams: [H2Stream, HeaderRecord][] = [];
  const ct = new MemoryTransport();
  const st = new MemoryTransport();
  const s = new H2Session({ role: "server", transport: st, onStream: (stream, h) => streams.push([stream, h]), ...server });
  const c = new H2Session({ role: "client", transport: ct, ...client });
  ct.deliver = (b) => s.receive(b);
  st.deliver = (b) => c.receive(b);
  // The client's preface and SETTINGS were written before delivery was wired.
  for (const b of ct.written) s.receive(b);
  for (const b of st.written) c.receive(b);
  ct.onEnd = () => s.transportClosed();
  st.onEnd = () => c.transportClosed();
  return { client: c, server: s, streams, ct, st };
}

/** A server session fed raw bytes, as a misbehaving peer would send them. */
export function rawServer(options: Partial<H2SessionOptions> = {}) {
  const st = new MemoryTransport();
  const s = new H2Session({ role: "server", transport: st, ...options });
  const errors: Error[] = [];
  s.on("error", (e: Error) => errors.push(e));
  const send = (...frames: Uint8Array[]) => s.receive(concatBytes(frames));
  const goaway = () => st.frames().find((f) => f.type === FrameType.GOAWAY);
  const goawayCode = () => {
    const g = goaway();
    return g ? readUint32(g.payload, 4) : undefined;
  };
  const rstCodes = () => st.frames().filter((f) => f.type === FrameType.RST_STREAM).map((f) => readUint32(f.payload, 0));
  return { s, st, send, goawayCode, errors, rstCodes };
}

export const CONNECT = new HpackEncoder().encode([[":method", "CONNECT"], [":authority", "10.0.0.1:80"]]);
export const headersFrame = (id: number, block = CONNECT, flags: number = Flag.END_HEADERS) => encodeFrame(FrameType.HEADERS, flags, id, block);
export const SETTINGS = encodeSettings([]);

