// H2Session against itself and against hand-made frames, over an in-memory
// transport: the protocol logic without sockets (the socket paths, and Go and
// python3-h2 peers, are covered by tests/hbone_*_test.ts).
import { describe, expect, test } from "bun:test";
import { CONNECTION_PREFACE, encodeFrame, encodeSettings, encodeWindowUpdate, ErrorCode, Flag, FrameType, readUint32, Setting } from "./frames.ts";
import { HpackEncoder } from "./hpack.ts";
import type { HeaderRecord } from "./stream.ts";
import { CONNECT, headersFrame, pair, rawServer, SETTINGS, tick } from "./_session_test_kit.ts";

describe("H2Session with itself", () => {
  test("CONNECT, response, bytes both ways, half-close each way, and both sides forget the stream", async () => {
    const { client, server, streams } = pair();
    const stream = client.request({ ":method": "CONNECT", ":authority": "10.0.0.1:80" });
    await tick();
    const [inbound, headers] = streams[0]!;
    expect(headers).toEqual({ ":method": "CONNECT", ":authority": "10.0.0.1:80" });
    inbound.respond({ ":status": 200 });
    const status = await new Promise((r) => stream.once("response", (h: HeaderRecord) => r(h[":status"])));
    expect(status).toBe("200");
    const got: Buffer[] = [];
    inbound.on("data", (b: Buffer) => got.push(b));
    stream.end(Buffer.from("hello"));
    await new Promise((r) => inbound.once("end", r));
    expect(Buffer.concat(got).toString()).toBe("hello");
    const back: Buffer[] = [];
    stream.on("data", (b: Buffer) => back.push(b));
    inbound.end(Buffer.from("world"));
    await new Promise((r) => stream.once("end", r));
    expect(Buffer.concat(back).toString()).toBe("world");
    await tick();
    expect([client.openStreams, server.openStreams]).toEqual([0, 0]);
    expect(stream.rstCode).toBeUndefined();
  });

  test("a reader that stops reading stops the writer at the stream window", async () => {
    const window = 65_535;
    const { client, streams } = pair({ streamWindow: window });
    const stream = client.request({ ":method": "CONNECT", ":authority": "a:1" });
    await tick();
    const [inbound] = streams[0]!;
    inbound.respond({ ":status": 200 });
    inbound.pause();
    let written = 0;
    const chunk = Buffer.alloc(16 * 1024);
    for (let i = 0; i < 64; i++) stream.write(chunk, () => void (written += chunk.length));
    await tick();
    // The reader's buffer (its highWaterMark) plus one window plus one chunk queued: never the whole MiB.
    const readerBuffer = inbound.readableHighWaterMark;
    expect(written).toBeLessThan(64 * chunk.length);
    expect(written).toBeLessThanOrEqual(readerBuffer + window + chunk.length);
    expect(inbound.readableLength).toBeLessThanOrEqual(readerBuffer + window);
    inbound.resume();
    await new Promise((r) => setTimeout(r, 50));
    expect(written).toBe(64 * chunk.length);
  });

  test("a reset reaches the other side with its code", async () => {
    const { client, streams } = pair();
    const stream = client.request({ ":method": "CONNECT", ":authority": "a:1" });
    await tick();
    const [inbound] = streams[0]!;
    const closed = new Promise((r) => inbound.once("close", r));
    stream.close(ErrorCode.CANCEL);
    await closed;
    expect(inbound.rstCode).toBe(ErrorCode.CANCEL);
  });

  test("close() sends GOAWAY: no new streams, open ones finish, then the connection ends", async () => {
    const { client, server, streams, st } = pair();
    const stream = client.request({ ":method": "CONNECT", ":authority": "a:1" });
    await tick();
    const goaway = new Promise((r) => client.once("goaway", r));
    server.close();
    await goaway;
    expect(() => client.request({ ":method": "CONNECT", ":authority": "a:2" })).toThrow(/closing/);
    expect(st.ended).toBe(false);
    const [inbound] = streams[0]!;
    inbound.respond({ ":status": 200 });
    inbound.resume();
    stream.resume();
    stream.end();
    inbound.end();
    await tick();
    expect(st.ended).toBe(true);
  });

  test("streams over the advertised limit are refused", async () => {
    const { client, streams } = pair({ maxConcurrentStreams: 2 });
    const opened = [1, 2, 3].map(() => client.request({ ":method": "CONNECT", ":authority": "a:1" }));
    await tick();
    expect(streams.length).toBe(2);
    expect(opened[2]!.rstCode).toBe(ErrorCode.REFUSED_STREAM);
  });
});

describe("H2Session against bad peers", () => {
  const settingsThen = (...frames: Uint8Array[]) => [CONNECTION_PREFACE, SETTINGS, ...frames];
  const cases: [string, Uint8Array[], number][] = [
    ["not a preface", [new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n")], ErrorCode.PROTOCOL_ERROR],
    ["first frame not SETTINGS", [CONNECTION_PREFACE, headersFrame(1)], ErrorCode.PROTOCOL_ERROR],
    ["DATA on stream 0", settingsThen(encodeFrame(FrameType.DATA, 0, 0, new Uint8Array(1))), ErrorCode.PROTOCOL_ERROR],
    ["a frame over SETTINGS_MAX_FRAME_SIZE", settingsThen(encodeFrame(FrameType.DATA, 0, 1, new Uint8Array(300 * 1024))), ErrorCode.FRAME_SIZE_ERROR],
    ["a header block interrupted", settingsThen(headersFrame(1, CONNECT, 0), encodeFrame(FrameType.PING, 0, 0, new Uint8Array(8))), ErrorCode.PROTOCOL_ERROR],
    ["CONTINUATION without HEADERS", settingsThen(encodeFrame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, CONNECT)), ErrorCode.PROTOCOL_ERROR],
    ["an undecodable header block", settingsThen(headersFrame(1, Uint8Array.from([0x80]))), ErrorCode.COMPRESSION_ERROR],
    ["a stream id the client may not use", settingsThen(headersFrame(2)), ErrorCode.PROTOCOL_ERROR],
    ["the connection window overflowed", settingsThen(encodeWindowUpdate(0, 2 ** 31 - 1)), ErrorCode.FLOW_CONTROL_ERROR],
    ["PUSH_PROMISE", settingsThen(encodeFrame(FrameType.PUSH_PROMISE, Flag.END_HEADERS, 1, new Uint8Array(4))), ErrorCode.PROTOCOL_ERROR],
    ["SETTINGS_MAX_FRAME_SIZE below the minimum", settingsThen(encodeSettings([[Setting.MAX_FRAME_SIZE, 100]])), ErrorCode.PROTOCOL_ERROR],
  ];
  for (const [name, frames, code] of cases) {
    test(`${name}: GOAWAY with error ${code}, connection closed`, () => {
      const { send, goawayCode, st, errors } = rawServer();
      send(...frames);
      expect(goawayCode()).toBe(code);
      expect(st.ended).toBe(true);
      expect(errors.length).toBe(1);
    });
  }

  test("PING is answered with the same payload; the connection stays up", () => {
    const { send, st, goawayCode } = rawServer();
    send(CONNECTION_PREFACE, SETTINGS, encodeFrame(FrameType.PING, 0, 0, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])));
    const ack = st.frames().find((f) => f.type === FrameType.PING);
    expect(ack?.flags).toBe(Flag.ACK);
    expect([...ack!.payload]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(goawayCode()).toBeUndefined();
  });

  test("DATA beyond an unread stream's window resets that stream with FLOW_CONTROL_ERROR", () => {
    const { send, st, goawayCode } = rawServer();
    const data = Array.from({ length: 30 }, () => encodeFrame(FrameType.DATA, 0, 1, new Uint8Array(200 * 1024)));
    send(CONNECTION_PREFACE, SETTINGS, headersFrame(1), ...data);
    const rst = st.frames().find((f) => f.type === FrameType.RST_STREAM);
    expect(rst && readUint32(rst.payload, 0)).toBe(ErrorCode.FLOW_CONTROL_ERROR);
    expect(goawayCode()).toBeUndefined();
  });

  test("an upper-case header name resets only that stream", () => {
    const { send, st, goawayCode } = rawServer();
    send(CONNECTION_PREFACE, SETTINGS, headersFrame(1, new HpackEncoder().encode([[":method", "CONNECT"], ["Baggage", "x"]])));
    const rst = st.frames().find((f) => f.type === FrameType.RST_STREAM);
    expect(rst && readUint32(rst.payload, 0)).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(goawayCode()).toBeUndefined();
  });
});
