import { describe, expect, test } from "bun:test";
import { readGoaway, readPing, readRstStream, readSettingsAck, readWindowUpdate } from "./control_frames.ts";
import { ConnectionError, ErrorCode, Flag, type Frame, FrameType } from "./frames.ts";

const frame = (type: number, streamId: number, payload: number[], flags = 0): Frame => ({ type, flags, streamId, payload: Uint8Array.from(payload) });

describe("control frames", () => {
  const cases: [string, () => unknown, number | unknown][] = [
    ["RST_STREAM reads its code", () => readRstStream(frame(FrameType.RST_STREAM, 1, [0, 0, 0, 8])), ErrorCode.CANCEL],
    ["RST_STREAM on stream 0", () => readRstStream(frame(FrameType.RST_STREAM, 0, [0, 0, 0, 8])), ErrorCode.PROTOCOL_ERROR],
    ["RST_STREAM of 3 bytes", () => readRstStream(frame(FrameType.RST_STREAM, 1, [0, 0, 8])), ErrorCode.FRAME_SIZE_ERROR],
    ["SETTINGS ACK", () => readSettingsAck(frame(FrameType.SETTINGS, 0, [], Flag.ACK)), true],
    ["SETTINGS not an ACK", () => readSettingsAck(frame(FrameType.SETTINGS, 0, [0, 4, 0, 0, 0, 1])), false],
    ["SETTINGS ACK with payload", () => readSettingsAck(frame(FrameType.SETTINGS, 0, [0, 4, 0, 0, 0, 1], Flag.ACK)), ErrorCode.FRAME_SIZE_ERROR],
    ["SETTINGS on a stream", () => readSettingsAck(frame(FrameType.SETTINGS, 3, [])), ErrorCode.PROTOCOL_ERROR],
    ["PING is answered", () => readPing(frame(FrameType.PING, 0, [1, 2, 3, 4, 5, 6, 7, 8])), true],
    ["PING ACK is not answered", () => readPing(frame(FrameType.PING, 0, [1, 2, 3, 4, 5, 6, 7, 8], Flag.ACK)), false],
    ["PING of 7 bytes", () => readPing(frame(FrameType.PING, 0, [1, 2, 3, 4, 5, 6, 7])), ErrorCode.FRAME_SIZE_ERROR],
    ["PING on a stream", () => readPing(frame(FrameType.PING, 1, [1, 2, 3, 4, 5, 6, 7, 8])), ErrorCode.PROTOCOL_ERROR],
    ["GOAWAY reads last stream and code", () => readGoaway(frame(FrameType.GOAWAY, 0, [0x80, 0, 0, 5, 0, 0, 0, 2])), { lastStreamId: 5, errorCode: 2 }],
    ["GOAWAY too short", () => readGoaway(frame(FrameType.GOAWAY, 0, [0, 0, 0, 5])), ErrorCode.FRAME_SIZE_ERROR],
    ["GOAWAY on a stream", () => readGoaway(frame(FrameType.GOAWAY, 1, [0, 0, 0, 5, 0, 0, 0, 0])), ErrorCode.PROTOCOL_ERROR],
    ["WINDOW_UPDATE ignores the reserved bit", () => readWindowUpdate(frame(FrameType.WINDOW_UPDATE, 1, [0x80, 0, 1, 0])), 256],
    ["WINDOW_UPDATE of 0 on a stream is the caller's stream error", () => readWindowUpdate(frame(FrameType.WINDOW_UPDATE, 1, [0, 0, 0, 0])), 0],
    ["WINDOW_UPDATE of 0 on the connection", () => readWindowUpdate(frame(FrameType.WINDOW_UPDATE, 0, [0, 0, 0, 0])), ErrorCode.PROTOCOL_ERROR],
    ["WINDOW_UPDATE of 5 bytes", () => readWindowUpdate(frame(FrameType.WINDOW_UPDATE, 0, [0, 0, 0, 1, 0])), ErrorCode.FRAME_SIZE_ERROR],
  ];
  for (const [name, run, expected] of cases) {
    test(name, () => {
      let outcome: unknown;
      try {
        outcome = run();
      } catch (e) {
        expect(e).toBeInstanceOf(ConnectionError);
        outcome = (e as ConnectionError).errorCode;
      }
      expect(outcome).toEqual(expected);
    });
  }
});
