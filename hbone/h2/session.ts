import { EventEmitter } from "node:events";
import { HpackEncoder } from "./hpack.ts";
import { type HeaderBlock, HeaderBlockReader, headerRecord, wellFormedFields } from "./header_block.ts";
import {
  CONNECTION_PREFACE, ConnectionError, DEFAULT_MAX_FRAME_SIZE, DEFAULT_WINDOW, encodeDataFrames, encodeFrame,
  encodeGoaway, encodeRstStream, encodeSettings, encodeWindowUpdate, ErrorCode, Flag, type Frame,
  FRAME_HEADER_LENGTH, FrameReader, FrameType, concatBytes, type DataPiece, MAX_WINDOW, Setting, unpad,
} from "./frames.ts";
import { type HeaderRecord, H2Stream, type StreamOwner } from "./stream.ts";
import { decodeSettingsFrame, type PeerSettings } from "./settings.ts";
import { readGoaway, readPing, readRstStream, readSettingsAck, readWindowUpdate } from "./control_frames.ts";

/** Where frames go: a TLS socket, seen as bytes out. */
export interface FrameTransport {
  /** Queues bytes; false when they could not all be handed to the socket yet. */
  write(bytes: Uint8Array): boolean;
  /** Closes after queued bytes are sent. */
  end(): void;
  destroy(): void;
}

/** Tuning for {@link H2Session}; the defaults are ztunnel's. */
export interface H2SessionOptions {
  readonly role: "client" | "server";
  readonly transport: FrameTransport;
  /** Server: called for each new stream with its request headers. */
  readonly onStream?: (stream: H2Stream, headers: HeaderRecord) => void;
  /** Advertised to the peer (server). Default 1000. */
  readonly maxConcurrentStreams?: number;
  /** Per-stream receive window. Default 4 MiB. */
  readonly streamWindow?: number;
  /** Connection receive window. Default 16 MiB. */
  readonly connectionWindow?: number;
  /** Largest frame we accept. Default 256 KiB. */
  readonly maxFrameSize?: number;
}

const MAX_HEADER_BLOCK = 64 * 1024;

/**
 * One HTTP/2 connection carrying CONNECT streams: the part of RFC 9113 HBONE
 * uses, with flow control, SETTINGS, PING, GOAWAY and RST_STREAM. Events follow
 * node:http2's session: `connect` (peer SETTINGS seen), `goaway`, `error`, `close`.
 */
export class H2Session extends EventEmitter implements StreamOwner {
  readonly #opts: H2SessionOptions;
  readonly #transport: FrameTransport;
  readonly #streams = new Map<number, H2Stream>();
  readonly #reader: FrameReader;
  readonly #headerBlocks = new HeaderBlockReader(MAX_HEADER_BLOCK);
  readonly #encoder = new HpackEncoder();
  readonly #drainWaiters: (() => void)[] = [];
  readonly #streamWindow: number;
  readonly #connectionWindow: number;
  #preface: Uint8Array | undefined;
  #nextStreamId: number;
  #lastPeerStreamId = 0;
  #sendWindow = DEFAULT_WINDOW;
  #receiveUnacknowledged = 0;
  remoteSettings: PeerSettings = { maxConcurrentStreams: 100, initialWindowSize: DEFAULT_WINDOW, maxFrameSize: DEFAULT_MAX_FRAME_SIZE };
  #settingsSeen = false;
  #backlogged = false;
  #goawaySent = false;
  #goawayReceived = false;
  closed = false;
  destroyed = false;

  constructor(options: H2SessionOptions) {
    super();
    this.#opts = options;
    this.#transport = options.transport;
    this.#streamWindow = options.streamWindow ?? 4 * 1024 * 1024;
    this.#connectionWindow = options.connectionWindow ?? 16 * 1024 * 1024;
    const maxFrameSize = options.maxFrameSize ?? 256 * 1024;
    this.#reader = new FrameReader(maxFrameSize);
    this.#nextStreamId = options.role === "client" ? 1 : 2;
    if (options.role === "server") this.#preface = new Uint8Array(0);
    const settings = encodeSettings([
      [Setting.ENABLE_PUSH, 0],
      [Setting.MAX_CONCURRENT_STREAMS, options.maxConcurrentStreams ?? 1000],
      [Setting.INITIAL_WINDOW_SIZE, this.#streamWindow],
      [Setting.MAX_FRAME_SIZE, maxFrameSize],
      [Setting.MAX_HEADER_LIST_SIZE, MAX_HEADER_BLOCK],
    ]);
    const windowUpdate = encodeWindowUpdate(0, this.#connectionWindow - DEFAULT_WINDOW);
    this.#write(options.role === "client" ? concatBytes([CONNECTION_PREFACE, settings, windowUpdate]) : concatBytes([settings, windowUpdate]));
  }

  /** The peer's first SETTINGS has arrived (`connect` was emitted). */
  get settingsReceived(): boolean {
    return this.#settingsSeen;
  }

  /** Streams open now. */
  get openStreams(): number {
    return this.#streams.size;
  }

  /** Opens a stream with `headers` (client). */
  request(headers: Record<string, string>, options: { endStream?: boolean } = {}): H2Stream {
    if (this.closed || this.#goawayReceived) throw new Error("HTTP/2 session is closing; no new streams");
    const id = this.#nextStreamId;
    this.#nextStreamId += 2;
    const stream = new H2Stream(id, this, this.remoteSettings.initialWindowSize, this.#streamWindow);
    this.#streams.set(id, stream);
    this.sendHeaders(stream, headers, options.endStream === true);
    if (options.endStream) stream.localEnded = true;
    return stream;
  }

  /** Feeds bytes received from the transport. */
  receive(chunk: Uint8Array): void {
    if (this.destroyed) return;
    try {
      if (this.#preface) {
        chunk = this.#consumePreface(chunk);
        if (chunk.length === 0) return;
      }
      this.#reader.push(chunk, this.#onFrameBound, this.#onDataBound);
    } catch (e) {
      if (e instanceof ConnectionError) return this.#connectionError(e.errorCode, e.message);
      this.#connectionError(ErrorCode.INTERNAL_ERROR, (e as Error).message);
    }
  }

  /** The transport closed under us. */
  transportClosed(error?: Error): void {
    if (this.destroyed) return;
    this.destroy(error);
  }

  /** Graceful: GOAWAY now, close once open streams finish. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.#goawaySent) {
      this.#goawaySent = true;
      this.#write(encodeGoaway(this.#lastPeerStreamId, ErrorCode.NO_ERROR));
    }
    this.#maybeFinish();
  }

  /** Abrupt: resets every stream and drops the connection. */
  destroy(error?: Error): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.closed = true;
    for (const stream of [...this.#streams.values()]) {
      if (stream.rstCode === undefined) stream.rstCode = ErrorCode.CANCEL;
      stream.destroy();
    }
    this.#streams.clear();
    this.#transport.destroy();
    if (error && this.listenerCount("error") > 0) this.emit("error", error);
    this.emit("close");
  }

  // ---- StreamOwner: what streams ask of their connection ----

  sendHeaders(stream: H2Stream, headers: Record<string, string>, endStream: boolean): void {
    const block = this.#encoder.encode(Object.entries(headers));
    // HBONE's header blocks are far below the 16 KiB minimum frame size, so no CONTINUATION.
    this.#write(encodeFrame(FrameType.HEADERS, Flag.END_HEADERS | (endStream ? Flag.END_STREAM : 0), stream.id, block));
    if (endStream) this.#afterLocalEnd(stream);
  }

  sendData(stream: H2Stream, chunk: Uint8Array, done: (error?: Error | null) => void): void {
    let offset = 0;
    const send = () => {
      stream.blockedWrite = undefined;
      if (stream.destroyed || this.destroyed) return done(new Error(`stream ${stream.id} closed while writing`));
      const frames: [number, number][] = [];
      let total = 0;
      while (offset < chunk.length) {
        const n = Math.min(chunk.length - offset, stream.sendWindow, this.#sendWindow, this.remoteSettings.maxFrameSize);
        if (n <= 0) break;
        frames.push([offset, n]);
        total += FRAME_HEADER_LENGTH + n;
        stream.sendWindow -= n;
        this.#sendWindow -= n;
        offset += n;
      }
      if (frames.length > 0) this.#write(encodeDataFrames(stream.id, chunk, frames, total));
      if (offset < chunk.length) {
        stream.blockedWrite = send;
        return;
      }
      if (this.#drainWaiters.length > 0 || this.#backlogged) this.#drainWaiters.push(() => done());
      else done();
    };
    send();
  }

  sendEndStream(stream: H2Stream): void {
    this.#write(encodeFrame(FrameType.DATA, Flag.END_STREAM, stream.id));
    this.#afterLocalEnd(stream);
  }

  sendReset(stream: H2Stream, code: number): void {
    if (!this.destroyed) this.#write(encodeRstStream(stream.id, code));
    this.forget(stream);
  }

  consumed(stream: H2Stream): void {
    this.#grantStream(stream);
  }

  forget(stream: H2Stream): void {
    if (this.#streams.get(stream.id) === stream) {
      this.#streams.delete(stream.id);
      this.#maybeFinish();
    }
  }

  // ---- receiving ----

  #write(bytes: Uint8Array): void {
    if (this.destroyed) return;
    if (!this.#transport.write(bytes)) this.#backlogged = true;
  }

  /** The transport's backlog emptied: writes waiting on it continue. */
  transportDrained(): void {
    this.#backlogged = false;
    for (const w of this.#drainWaiters.splice(0)) w();
  }

  #consumePreface(chunk: Uint8Array): Uint8Array {
    const seen = this.#preface!;
    const need = CONNECTION_PREFACE.length - seen.length;
    const take = chunk.subarray(0, need);
    for (let i = 0; i < take.length; i++) {
      if (take[i] !== CONNECTION_PREFACE[seen.length + i]) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "not an HTTP/2 connection preface");
    }
    const joined = concatBytes([seen, take]);
    this.#preface = joined.length === CONNECTION_PREFACE.length ? undefined : joined;
    return chunk.subarray(take.length);
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
    this.#receiveUnacknowledged += counted;
    if (this.#receiveUnacknowledged > this.#connectionWindow) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "peer overran the connection window");
    if (this.#receiveUnacknowledged >= this.#connectionWindow / 2) {
      this.#write(encodeWindowUpdate(0, this.#receiveUnacknowledged));
      this.#receiveUnacknowledged = 0;
    }
    const stream = this.#streams.get(streamId);
    if (!stream) return last ? this.#unknownStream(streamId) : undefined;
    if (stream.remoteEnded) return this.#streamError(stream, ErrorCode.STREAM_CLOSED);
    stream.receiveWindow -= counted;
    if (stream.receiveWindow < 0) return this.#streamError(stream, ErrorCode.FLOW_CONTROL_ERROR);
    stream.unacknowledged += counted;
    if (data.length > 0 && !stream.push(data)) stream.readerFull = true;
    if (last && flags & Flag.END_STREAM) this.#afterRemoteEnd(stream);
    else if (!stream.readerFull) this.#grantStream(stream);
  }

  #grantStream(stream: H2Stream): void {
    if (stream.remoteEnded || stream.unacknowledged < this.#streamWindow / 2) return;
    this.#write(encodeWindowUpdate(stream.id, stream.unacknowledged));
    stream.receiveWindow += stream.unacknowledged;
    stream.unacknowledged = 0;
  }

  #onHeaderBlock(block: HeaderBlock | undefined): void {
    if (!block) return;
    const { streamId, endStream, fields } = block;
    const existing = this.#streams.get(streamId);
    if (existing) return this.#onStreamHeaders(existing, fields, endStream);
    if (this.#opts.role === "client" || streamId % 2 === 0 || streamId <= this.#lastPeerStreamId) {
      if (streamId <= this.#lastPeerStreamId || streamId < this.#nextStreamId) return this.#write(encodeRstStream(streamId, ErrorCode.STREAM_CLOSED));
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `HEADERS opening stream ${streamId} is not allowed here`);
    }
    this.#lastPeerStreamId = streamId;
    const limit = this.#opts.maxConcurrentStreams ?? 1000;
    const malformed = !fields || !wellFormedFields(fields);
    if (malformed || this.closed || this.#streams.size >= limit) {
      return this.#write(encodeRstStream(streamId, malformed ? ErrorCode.PROTOCOL_ERROR : ErrorCode.REFUSED_STREAM));
    }
    const stream = new H2Stream(streamId, this, this.remoteSettings.initialWindowSize, this.#streamWindow);
    this.#streams.set(streamId, stream);
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
    stream.rstCode = code;
    this.#streams.delete(stream.id);
    stream.destroy();
    this.#maybeFinish();
  }

  #onSettings(frame: Frame): void {
    if (readSettingsAck(frame)) return;
    const before = this.remoteSettings.initialWindowSize;
    this.remoteSettings = decodeSettingsFrame(frame.payload, this.remoteSettings);
    this.#write(encodeFrame(FrameType.SETTINGS, Flag.ACK, 0));
    const delta = this.remoteSettings.initialWindowSize - before;
    if (delta !== 0) {
      for (const s of this.#streams.values()) {
        s.sendWindow += delta;
        if (s.sendWindow > MAX_WINDOW) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, "stream window overflow");
      }
      this.#resumeBlocked();
    }
    if (!this.#settingsSeen) {
      this.#settingsSeen = true;
      this.emit("connect");
    }
  }

  #onPing(frame: Frame): void {
    if (readPing(frame)) this.#write(encodeFrame(FrameType.PING, Flag.ACK, 0, frame.payload));
  }

  #onGoaway(frame: Frame): void {
    const { lastStreamId, errorCode } = readGoaway(frame);
    this.#goawayReceived = true;
    this.closed = true;
    // Streams we opened above lastStreamId were never seen by the peer.
    for (const s of [...this.#streams.values()]) {
      if (s.id > lastStreamId && s.id % 2 === this.#nextStreamId % 2) {
        s.rstCode = ErrorCode.REFUSED_STREAM;
        this.#streams.delete(s.id);
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
      return this.#resumeBlocked();
    }
    const stream = this.#streams.get(frame.streamId);
    if (!stream) return;
    if (increment === 0) return this.#streamError(stream, ErrorCode.PROTOCOL_ERROR);
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW) return this.#streamError(stream, ErrorCode.FLOW_CONTROL_ERROR);
    stream.blockedWrite?.();
  }

  #resumeBlocked(): void {
    for (const s of this.#streams.values()) {
      if (this.#sendWindow <= 0) return;
      s.blockedWrite?.();
    }
  }

  #unknownStream(streamId: number): void {
    const known = streamId <= this.#lastPeerStreamId || (streamId % 2 === this.#nextStreamId % 2 && streamId < this.#nextStreamId);
    if (!known) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `frame on idle stream ${streamId}`);
    this.#write(encodeRstStream(streamId, ErrorCode.STREAM_CLOSED));
  }

  #streamError(stream: H2Stream, code: number): void {
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

  #maybeFinish(): void {
    if (this.closed && !this.destroyed && this.#streams.size === 0) {
      this.destroyed = true;
      this.#transport.end();
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
    for (const stream of [...this.#streams.values()]) {
      stream.rstCode = code;
      stream.destroy();
    }
    this.#streams.clear();
    this.destroyed = true;
    this.closed = true;
    this.#transport.end();
    if (this.listenerCount("error") > 0) this.emit("error", error);
    this.emit("close");
  }
}
