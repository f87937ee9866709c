/**
 * How an {@link H2Session} is tuned, and the defaults: ztunnel's windows and
 * stream limit. Timers are off unless set; hbone/h2/bun_tls.ts sets them.
 */
import type { AbuseLimitOptions } from "./abuse_limits.ts";
import { CONNECTION_PREFACE, concatBytes, DEFAULT_WINDOW, encodeSettings, encodeWindowUpdate, Setting } from "./frames.ts";
import type { SessionTimerOptions } from "./session_timers.ts";
import type { H2Stream, HeaderRecord } from "./stream.ts";
import type { H2Session } from "./session.ts";

/** Where frames go: a TLS socket, seen as bytes out. */
export interface FrameTransport {
  /** Queues bytes; false when they could not all be handed to the socket yet. */
  write(bytes: Uint8Array): boolean;
  /** Closes after queued bytes are sent. */
  end(): void;
  destroy(): void;
}

/** Tuning for {@link H2Session}. */
export interface H2SessionOptions extends SessionTimerOptions {
  readonly role: "client" | "server";
  readonly transport: FrameTransport;
  /** Server: called for each new stream with its request headers. */
  readonly onStream?: (stream: H2Stream, headers: HeaderRecord) => void;
  /** Advertised to the peer (server); streams beyond it are refused with REFUSED_STREAM. Default 100. */
  readonly maxConcurrentStreams?: number;
  /** Per-stream receive window. Default 4 MiB. */
  readonly streamWindow?: number;
  /** Connection receive window. Default 16 MiB. */
  readonly connectionWindow?: number;
  /** Largest frame we accept. Default 256 KiB. */
  readonly maxFrameSize?: number;
  /** Flood bounds (abuse_limits.ts). */
  readonly limits?: AbuseLimitOptions;
  /** A graceful close waits this long for the answer to its drain PING before the final GOAWAY. Default 1 s. */
  readonly drainTimeoutMs?: number;
  /** After the last GOAWAY, bytes still unsent after this long are dropped with the socket. Default 5 s. */
  readonly lingerMs?: number;
  /** The first stream id a client opens; only tests of id exhaustion set it. Default 1. */
  readonly firstStreamId?: number;
}

/** The largest header block we take (SETTINGS_MAX_HEADER_LIST_SIZE). */
export const MAX_HEADER_BLOCK = 64 * 1024;

/** The windows and limits of a session, defaults applied. */
export function resolveSessionOptions(options: H2SessionOptions) {
  return {
    streamWindow: options.streamWindow ?? 4 * 1024 * 1024,
    connectionWindow: options.connectionWindow ?? 16 * 1024 * 1024,
    maxStreams: options.maxConcurrentStreams ?? 100,
    maxFrameSize: options.maxFrameSize ?? 256 * 1024,
  };
}

/** What a session sends first: the client's preface, our SETTINGS (push off, our stream limit, sizes) and the connection window. */
export function openingBytes(role: "client" | "server", resolved: ReturnType<typeof resolveSessionOptions>): Uint8Array {
  const settings = encodeSettings([
    [Setting.ENABLE_PUSH, 0],
    [Setting.MAX_CONCURRENT_STREAMS, resolved.maxStreams],
    [Setting.INITIAL_WINDOW_SIZE, resolved.streamWindow],
    [Setting.MAX_FRAME_SIZE, resolved.maxFrameSize],
    [Setting.MAX_HEADER_LIST_SIZE, MAX_HEADER_BLOCK],
  ]);
  const windowUpdate = encodeWindowUpdate(0, resolved.connectionWindow - DEFAULT_WINDOW);
  return concatBytes(role === "client" ? [CONNECTION_PREFACE, settings, windowUpdate] : [settings, windowUpdate]);
}
