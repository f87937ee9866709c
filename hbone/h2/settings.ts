import { ConnectionError, ErrorCode, MAX_WINDOW, readUint32, Setting } from "./frames.ts";

/** The peer's settings that change how we send. */
export interface PeerSettings {
  readonly maxConcurrentStreams: number;
  readonly initialWindowSize: number;
  readonly maxFrameSize: number;
}

/**
 * Applies a SETTINGS payload to the peer's current settings, checking each
 * value against RFC 9113 6.5.2. Unknown settings are ignored, as the RFC asks.
 */
export function decodeSettingsFrame(payload: Uint8Array, current: PeerSettings): PeerSettings {
  if (payload.length % 6 !== 0) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, "SETTINGS payload is not a multiple of 6 bytes");
  let { maxConcurrentStreams, initialWindowSize, maxFrameSize } = current;
  for (let i = 0; i + 6 <= payload.length; i += 6) {
    const id = (payload[i]! << 8) | payload[i + 1]!;
    const value = readUint32(payload, i + 2);
    switch (id) {
      case Setting.ENABLE_PUSH:
        if (value > 1) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH ${value}`);
        break;
      case Setting.MAX_CONCURRENT_STREAMS:
        maxConcurrentStreams = value;
        break;
      case Setting.INITIAL_WINDOW_SIZE:
        if (value > MAX_WINDOW) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${value}`);
        initialWindowSize = value;
        break;
      case Setting.MAX_FRAME_SIZE:
        if (value < 16_384 || value > 16_777_215) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${value}`);
        maxFrameSize = value;
        break;
    }
  }
  return { maxConcurrentStreams, initialWindowSize, maxFrameSize };
}
