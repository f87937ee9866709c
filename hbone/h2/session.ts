import { EventEmitter } from "node:events";
import { HpackEncoder } from "./hpack.ts";
import { type HeaderBlock, HeaderBlockReader, headerRecord, wellFormedFields } from "./header_block.ts";
import {
  ConnectionError, DEFAULT_MAX_FRAME_SIZE, DEFAULT_WINDOW, encodeFrame, encodeGoaway, encodeRstStream, ErrorCode, Flag,
  type Frame, FrameReader, FrameType, concatBytes, type DataPiece, MAX_WINDOW, PrefaceReader, unpad,
} from "./frames.ts";
import { type HeaderRecord, H2Stream, type StreamOwner } from "./stream.ts";
import { decodeSettingsFrame, type PeerSettings } from "./settings.ts";
import { readGoaway, readPing, readRstStream, readSettingsAck, readWindowUpdate } from "./control_frames.ts";
import { AbuseLimits } from "./abuse_limits.ts";
import { ReceiveFlow } from "./receive_window.ts";
import { type FrameTransport, type H2SessionOptions, MAX_HEADER_BLOCK, openingBytes, resolveSessionOptions } from "./session_options.ts";
import { SessionTimers } from "./session_timers.ts";
import { WriteScheduler } from "./write_scheduler.ts";

export type { FrameTransport, H2SessionOptions } from "./session_options.ts";

const MAX_STREAM_ID = 2 ** 31 - 1;
const DRAIN_PING = Uint8Array.from([0x64, 0x72, 0x61, 0x69, 0x6e, 0x69, 0x6e, 0x67]);

/**
 * One HTTP/2 connection carrying CONNECT streams: the part of RFC 9113 HBONE
 * uses, with flow control, SETTINGS, PING, GOAWAY and RST_STREAM, bounded
 * against hostile peers (abuse_limits.ts). Events follow node:http2's session:
 * `connect` (peer SETTINGS seen), `goaway`, `error`, `close`.
 */
export class H2Session extends EventEmitter implements StreamOwner {
  readonly #opts: H2SessionOptions;
  readonly #transport: FrameTransport;
  readonly #streams = new Map<number, H2Stream>();
  readonly #reader: FrameReader;
  readonly #headerBlocks = new HeaderBlockReader(MAX_HEADER_BLOCK);
  readonly #encoder = new HpackEncoder();
  readonly #drainWaiters: (() => void)[] = [];
  readonly #flow: ReceiveFlow;
  readonly #maxStreams: number;
  readonly #limits: AbuseLimits;
  readonly #timers: SessionTimers;
  readonly #scheduler: WriteScheduler;
  readonly #preface: PrefaceReader | undefined;
  #nextStreamId: number;
  #lastPeerStreamId = 0;
  #sendWindow = DEFAULT_WINDOW;
  remoteSettings: PeerSettings = { maxConcurrentStreams: 100, initialWindowSize: DEFAULT_WINDOW, maxFrameSize: DEFAULT_MAX_FRAME_SIZE };
  #settingsSeen = false;
  #backlogged = false;
  /** The final GOAWAY (with the real last stream id) went out. */
  #goawaySent = false;
  /** Between the two GOAWAYs of a graceful close: streams already in flight are still taken. */
  #draining: ReturnType<typeof setTimeout> | undefined;
  #goawayReceived = false;
  closed = false;
  destroyed = false;

  constructor(options: H2SessionOptions) {
    super();
    this.#opts = options;
    this.#transport = options.transport;
    const resolved = resolveSessionOptions(options);
    this.#flow = new ReceiveFlow(resolved.connectionWindow, resolved.streamWindow, (bytes) => this.#write(bytes));
    this.#maxStreams = resolved.maxStreams;
    this.#limits = new AbuseLimits(options.limits);
    this.#reader = new FrameReader(resolved.maxFrameSize);
    this.#nextStreamId = options.role === "client" ? options.firstStreamId ?? 1 : 2;
    if (options.role === "server") this.#preface = new PrefaceReader();
    const session = this;
    this.#scheduler = new WriteScheduler({
      get connectionWindow() { return session.#sendWindow; },
      set connectionWindow(n: number) { session.#sendWindow = n; },
      get maxFrameSize() { return session.remoteSettings.maxFrameSize; },
      get closed() { return session.destroyed; },
      write: (bytes) => this.#write(bytes),
      whenWritable: (done) => (this.#drainWaiters.length > 0 || this.#backlogged ? this.#drainWaiters.push(done) : done()),
    });
    this.#timers = new SessionTimers(options, {
      sendPing: (payload) => this.#write(encodeFrame(FrameType.PING, 0, 0, payload)),
      keepaliveTimedOut: () => this.destroy(new Error("HTTP/2 keepalive PING unanswered")),
      idle: () => this.close(),
    });
    this.#write(openingBytes(options.role, resolved));
  }

  /** The peer's first SETTINGS has arrived (`connect` was emitted). */
  get settingsReceived(): boolean {
    return this.#settingsSeen;
  }

  /** Streams open now. */
  get openStreams(): number {
    return this.#streams.size;
  }

  /** Streams this client can still open on this connection before ids run out (RFC 9113 5.1.1). */
  get streamIdsLeft(): number {
    return this.#nextStreamId > MAX_STREAM_ID ? 0 : Math.floor((MAX_STREAM_ID - this.#nextStreamId) / 2) + 1;
  }

  /** Opens a stream with `headers` (client). */
  request(headers: Record<string, string>, options: { endStream?: boolean } = {}): H2Stream {
    if (this.closed || this.#goawayReceived) throw new Error("HTTP/2 session is closing; no new streams");
    if (this.streamIdsLeft === 0) throw new Error("HTTP/2 stream ids exhausted on this connection");
    const id = this.#nextStreamId;
    this.#nextStreamId += 2;
    const stream = new H2Stream(id, this, this.remoteSettings.initialWindowSize, this.#flow.streamWindow);
    this.#streams.set(id, stream);
    this.#timers.streamsChanged(this.#streams.size);
    this.sendHeaders(stream, headers, options.endStream === true);
    if (options.endStream) stream.localEnded = true;
    return stream;
  }

  /** Feeds bytes received from the transport. */
  receive(chunk: Uint8Array): void {
    if (this.destroyed) return;
    this.#timers.heard();
    try {
      if (this.#preface && !this.#preface.done) {
        chunk = this.#preface.consume(chunk);
        if (chunk.length === 0) return;
      }
      this.#reader.push(chunk, this.#onFrameBound, this.#onDataBound);
    } catch (e) {
      this.#connectionError(e instanceof ConnectionError ? e.errorCode : ErrorCode.INTERNAL_ERROR, (e as Error).message);
    }
  }

  /** The transport closed under us. */
  transportClosed(error?: Error): void {
    this.destroy(error);
  }

  /** The transport's backlog emptied: writes waiting on it continue. */
  transportDrained(): void {
    this.#backlogged = false;
    this.#limits.drained();
    for (const w of this.#drainWaiters.splice(0)) w();
  }

  /**
   * Graceful, in two GOAWAYs as RFC 9113 6.8 suggests: the first (last stream
   * 2^31-1) and a PING, so streams the peer sent meanwhile are still served;
   * the second, once the PING is answered, names the last one. Open streams finish.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.#opts.role === "server" && !this.destroyed) {
      this.#write(concatBytes([encodeGoaway(MAX_STREAM_ID, ErrorCode.NO_ERROR), encodeFrame(FrameType.PING, 0, 0, DRAIN_PING)]));
      this.#draining = setTimeout(() => this.#finalGoaway(), this.#opts.drainTimeoutMs ?? 1000);
      (this.#draining as { unref?: () => void }).unref?.();
      return;
    }
    this.#finalGoaway();
  }

  /** Abrupt: resets every stream and drops the connection. */
  destroy(error?: Error): void {
    if (this.destroyed) return;
    this.#stop();
    this.#resetAll(ErrorCode.CANCEL);
    this.#transport.destroy();
    if (error && this.listenerCount("error") > 0) this.emit("error", error);
    this.emit("close");
  }

  // ---- StreamOwner: what streams ask of their connection ----

  sendHeaders(stream: H2Stream, headers: Record<string, string>, endStream: boolean): void {
    const block = this.#encoder.encode(Object.entries(headers));
    stream.answered = true;
    // HBONE's header blocks are far below the 16 KiB minimum frame size, so no CONTINUATION.
    this.#write(encodeFrame(FrameType.HEADERS, Flag.END_HEADERS | (endStream ? Flag.END_STREAM : 0), stream.id, block));
    if (endStream) this.#afterLocalEnd(stream);
  }

  sendData(stream: H2Stream, chunk: Uint8Array, done: (error?: Error | null) => void): void {
    this.#scheduler.send(stream, chunk, done);
  }

  sendEndStream(stream: H2Stream): void {
    this.#write(encodeFrame(FrameType.DATA, Flag.END_STREAM, stream.id));
    this.#afterLocalEnd(stream);
  }

  sendReset(stream: H2Stream, code: number): void {
    if (!this.destroyed) this.#write(encodeRstStream(stream.id, code));
    this.forget(stream);
  }

  /** The reader took what it was given: the connection's and the stream's window open again. */
  consumed(stream: H2Stream): void {
    this.#flow.consumed(stream);
  }

  forget(stream: H2Stream): void {
    if (this.#streams.get(stream.id) !== stream) return;
    this.#streams.delete(stream.id);
    this.#scheduler.forget(stream);
    this.#flow.released(stream);
    this.#timers.streamsChanged(this.#streams.size);
    this.#maybeFinish();
  }

  // ---- receiving ----

  #write(bytes: Uint8Array): void {
    if (this.destroyed) return;
    if (!this.#transport.write(bytes)) this.#backlogged = true;
  }

  /** A frame the peer's frame obliges us to send: bounded while the peer does not read. */
  #reply(bytes: Uint8Array): void {
    this.#write(bytes);
    this.#limits.controlReplyQueued(this.#backlogged);
  }

  readonly #onFrameBound = (frame: Frame) => this.#onFrame(frame);
  readonly #onDataBound = (piece: DataPiece) => this.#onDataPiece(piece.streamId, piece.flags, piece.data, piece.data.length, piece.last);

  #onFrame(frame: Frame): void {
    const continuing = this.#headerBlocks.expectingContinuation;
    if (continuing !== undefined && (frame.type !== FrameType.CONTINUATION || frame.streamId !== continuing)) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "header block interrupted by another frame");
    }
    if (!this.#settingsSeen && frame.type !== FrameType.SETTINGS) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "the first frame must be SETTINGS");
    }
    switch (frame.type) {
      case FrameType.DATA: return this.#onData(frame);
      case FrameType.HEADERS: return this.#onHeaderBlock(this.#headerBlocks.headers(frame));
      case FrameType.CONTINUATION: return this.#onHeaderBlock(this.#headerBlocks.continuation(frame));
      case FrameType.RST_STREAM: return this.#onRstStream(frame);
      case FrameType.SETTINGS: return this.#onSettings(frame);
      case FrameType.PING: return this.#onPing(frame);
      case FrameType.GOAWAY: return this.#onGoaway(frame);
      case FrameType.WINDOW_UPDATE: return this.#onWindowUpdate(frame);
      case FrameType.PUSH_PROMISE: throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "PUSH_PROMISE with push disabled");
      case FrameType.PRIORITY:
        if (frame.streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "PRIORITY on stream 0");
        return;
      default: return; // RFC 9113 5.5: unknown frame types are ignored.
    }
  }

  /** A padded DATA frame arrives whole; unpadded ones come as pieces through the reader. */
  #onData(frame: Frame): void {
    if (frame.streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "DATA on stream 0");
    this.#onDataPiece(frame.streamId, frame.flags, unpad(frame), frame.payload.length, true);
  }

  /** `counted` is what flow control charges: the piece, or the whole padded frame. */
  #onDataPiece(streamId: number, flags: number, data: Uint8Array, counted: number, last: boolean): void {
    if (this.#headerBlocks.expectingContinuation !== undefined) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "header block interrupted by DATA");
    if (!this.#settingsSeen) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "the first frame must be SETTINGS");
    const stream = this.#streams.get(streamId)!;
    if (!this.#flow.accept(stream, counted, data.length)) {
      if (!stream) return last ? this.#unknownStream(streamId) : undefined;
      return this.#streamError(stream, stream.remoteEnded ? ErrorCode.STREAM_CLOSED : ErrorCode.FLOW_CONTROL_ERROR);
    }
    if (data.length > 0) stream.push(data);
    if (last && flags & Flag.END_STREAM) this.#afterRemoteEnd(stream);
    this.#flow.consumed(stream);
  }

  #onHeaderBlock(block: HeaderBlock | undefined): void {
    if (!block) return;
    const { streamId, endStream, fields } = block;
    const existing = this.#streams.get(streamId);
    if (existing) return this.#onStreamHeaders(existing, fields, endStream);
    if (this.#opts.role === "client" || streamId % 2 === 0 || streamId <= this.#lastPeerStreamId) {
      if (streamId <= this.#lastPeerStreamId || streamId < this.#nextStreamId) return this.#refuse(streamId, ErrorCode.STREAM_CLOSED);
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `HEADERS opening stream ${streamId} is not allowed here`);
    }
    this.#lastPeerStreamId = streamId;
    const malformed = !fields || !wellFormedFields(fields);
    if (malformed || this.#goawaySent || (this.closed && !this.#draining) || this.#streams.size >= this.#maxStreams) {
      return this.#refuse(streamId, malformed ? ErrorCode.PROTOCOL_ERROR : ErrorCode.REFUSED_STREAM);
    }
    const stream = new H2Stream(streamId, this, this.remoteSettings.initialWindowSize, this.#flow.streamWindow);
    this.#streams.set(streamId, stream);
    this.#timers.streamsChanged(this.#streams.size);
    if (endStream) this.#afterRemoteEnd(stream);
    this.#opts.onStream?.(stream, headerRecord(fields));
  }

  #onStreamHeaders(stream: H2Stream, fields: [string, string][] | undefined, endStream: boolean): void {
    if (!fields) return this.#streamError(stream, ErrorCode.PROTOCOL_ERROR);
    if (this.#opts.role === "client" && !stream.responseHeaders) {
      const headers = headerRecord(fields);
      const status = Number(headers[":status"]);
      if (status >= 100 && status < 200) return;
      stream.responseHeaders = headers;
      stream.emit("response", headers);
    } else if (!endStream) {
      // Trailers must end the stream (RFC 9113 8.1).
      return this.#streamError(stream, ErrorCode.PROTOCOL_ERROR);
    }
    if (endStream) this.#afterRemoteEnd(stream);
  }

  #onRstStream(frame: Frame): void {
    const code = readRstStream(frame);
    const stream = this.#streams.get(frame.streamId);
    if (!stream) return;
    // A stream reset before we answered it cost us a stream and maybe a dial: the rapid-reset pattern.
    if (this.#opts.role === "server" && !stream.answered) this.#limits.earlyReset();
    stream.rstCode = code;
    this.forget(stream);
    stream.destroy();
  }

  #onSettings(frame: Frame): void {
    if (readSettingsAck(frame)) return;
    const before = this.remoteSettings.initialWindowSize;
    this.remoteSettings = decodeSettingsFrame(frame.payload, this.remoteSettings);
    this.#reply(encodeFrame(FrameType.SETTINGS, Flag.ACK, 0));
    const delta = this.remoteSettings.initialWindowSize - before;
    if (delta !== 0) {
      for (const s of this.#streams.values()) {
        s.sendWindow += delta;
        if (s.sendWindow > MAX_WINDOW) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "stream window overflow");
      }
      for (const s of this.#streams.values()) if (s.sendWindow > 0) this.#scheduler.resumeStream(s);
    }
    if (!this.#settingsSeen) {
      this.#settingsSeen = true;
      this.emit("connect");
    }
  }

  #onPing(frame: Frame): void {
    if (readPing(frame)) return this.#reply(encodeFrame(FrameType.PING, Flag.ACK, 0, frame.payload));
    if (this.#draining && frame.payload.every((b, i) => b === DRAIN_PING[i])) this.#finalGoaway();
  }

  #onGoaway(frame: Frame): void {
    const { lastStreamId, errorCode } = readGoaway(frame);
    this.#goawayReceived = true;
    this.closed = true;
    // Streams we opened above lastStreamId were never seen by the peer.
    for (const s of [...this.#streams.values()]) {
      if (s.id > lastStreamId && s.id % 2 === this.#nextStreamId % 2) {
        s.rstCode = ErrorCode.REFUSED_STREAM;
        this.forget(s);
        s.destroy();
      }
    }
    this.emit("goaway", errorCode, lastStreamId);
    this.#maybeFinish();
  }

  #onWindowUpdate(frame: Frame): void {
    const increment = readWindowUpdate(frame);
    if (frame.streamId === 0) {
      this.#sendWindow += increment;
      if (this.#sendWindow > MAX_WINDOW) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "connection window overflow");
      return this.#scheduler.resume();
    }
    const stream = this.#streams.get(frame.streamId);
    if (!stream) return;
    if (increment === 0) return this.#streamError(stream, ErrorCode.PROTOCOL_ERROR);
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW) return this.#streamError(stream, ErrorCode.FLOW_CONTROL_ERROR);
    this.#scheduler.resumeStream(stream);
  }

  #unknownStream(streamId: number): void {
    const known = streamId <= this.#lastPeerStreamId || (streamId % 2 === this.#nextStreamId % 2 && streamId < this.#nextStreamId);
    if (!known) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `frame on idle stream ${streamId}`);
    this.#refuse(streamId, ErrorCode.STREAM_CLOSED);
  }

  /** Resets a stream the peer got wrong; counted, so faults cannot be farmed for replies. */
  #refuse(streamId: number, code: number): void {
    this.#limits.errorReset();
    this.#reply(encodeRstStream(streamId, code));
  }

  #streamError(stream: H2Stream, code: number): void {
    this.#limits.errorReset();
    stream.close(code);
  }

  #afterLocalEnd(stream: H2Stream): void {
    stream.localEnded = true;
    if (stream.remoteEnded) this.forget(stream);
  }

  #afterRemoteEnd(stream: H2Stream): void {
    stream.remoteEnded = true;
    stream.push(null);
    if (stream.localEnded) this.forget(stream);
  }

  #finalGoaway(): void {
    clearTimeout(this.#draining);
    this.#draining = undefined;
    if (this.destroyed || this.#goawaySent) return;
    this.#goawaySent = true;
    this.#write(encodeGoaway(this.#lastPeerStreamId, ErrorCode.NO_ERROR));
    this.#maybeFinish();
  }

  #maybeFinish(): void {
    if (this.closed && !this.#draining && !this.destroyed && this.#streams.size === 0) {
      this.#stop();
      this.#endTransport();
      this.emit("close");
    }
  }

  #connectionError(code: number, message: string): void {
    if (this.destroyed) return;
    if (!this.#goawaySent) {
      this.#goawaySent = true;
      this.#write(encodeGoaway(this.#lastPeerStreamId, code, message));
    }
    const error = Object.assign(new Error(`HTTP/2 connection error: ${message}`), { code: "ERR_HTTP2_SESSION_ERROR", errorCode: code });
    this.#stop();
    this.#resetAll(code);
    this.#endTransport();
    if (this.listenerCount("error") > 0) this.emit("error", error);
    this.emit("close");
  }

  #resetAll(code: number): void {
    for (const stream of [...this.#streams.values()]) {
      stream.rstCode ??= code;
      stream.destroy();
    }
    this.#streams.clear();
  }

  #stop(): void {
    this.destroyed = true;
    this.closed = true;
    this.#timers.stop();
    clearTimeout(this.#draining);
    this.#draining = undefined;
  }

  /** Ends after the queued bytes, but a peer that never reads them cannot keep the socket: it is dropped after the linger. */
  #endTransport(): void {
    this.#transport.end();
    const timer = setTimeout(() => this.#transport.destroy(), this.#opts.lingerMs ?? 5000);
    (timer as { unref?: () => void }).unref?.();
  }
}
