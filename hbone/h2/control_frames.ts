/**
 * Checks and reads the control frames (RFC 9113 section 6): each function
 * either returns the frame's meaning or throws the {@link ConnectionError} the
 * RFC asks for, so the session only acts on frames that are well formed.
 */
import { ConnectionError, ErrorCode, Flag, type Frame, readUint32 } from "./frames.ts";

/** RST_STREAM: the error code. */
export function readRstStream(frame: Frame): number {
  if (frame.streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "RST_STREAM on stream 0");
  if (frame.payload.length !== 4) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "RST_STREAM payload must be 4 bytes");
  return readUint32(frame.payload, 0);
}

/** SETTINGS: true for an ACK (which carries nothing). */
export function readSettingsAck(frame: Frame): boolean {
  if (frame.streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "SETTINGS on a stream");
  if (!(frame.flags & Flag.ACK)) return false;
  if (frame.payload.length !== 0) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "SETTINGS ACK with a payload");
  return true;
}

/** PING: true when it must be answered (it is not itself an ACK). */
export function readPing(frame: Frame): boolean {
  if (frame.streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "PING on a stream");
  if (frame.payload.length !== 8) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "PING payload must be 8 bytes");
  return (frame.flags & Flag.ACK) === 0;
}

/** GOAWAY: the last stream the peer processed, and why it is going. */
export function readGoaway(frame: Frame): { lastStreamId: number; errorCode: number } {
  if (frame.streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "GOAWAY on a stream");
  if (frame.payload.length < 8) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "GOAWAY payload too short");
  return { lastStreamId: readUint32(frame.payload, 0) & 0x7fffffff, errorCode: readUint32(frame.payload, 4) };
}

/**
 * WINDOW_UPDATE: the increment. A zero increment on the connection is a
 * connection error; on a stream it is the caller's stream error (returned as 0).
 */
export function readWindowUpdate(frame: Frame): number {
  if (frame.payload.length !== 4) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "WINDOW_UPDATE payload must be 4 bytes");
  const increment = readUint32(frame.payload, 0) & 0x7fffffff;
  if (increment === 0 && frame.streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE of 0 on the connection");
  return increment;
}
