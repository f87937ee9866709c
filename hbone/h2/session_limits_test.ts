// H2Session against hostile peers, over an in-memory transport: each flood or
// resource bound of docs/hbone.md ("Hostile peers") as a state-machine test.
// The same floods against a real server process are in tests/hbone_floods_test.ts.
import { describe, expect, test } from "bun:test";
import {
  CONNECTION_PREFACE, concatBytes, encodeFrame, encodeRstStream, encodeSettings, encodeWindowUpdate, ErrorCode, Flag,
  FrameType, readUint32, Setting,
} from "./frames.ts";
import { H2Session } from "./session.ts";
import type { H2Stream } from "./stream.ts";
import { CONNECT, headersFrame, MemoryTransport, pair, rawServer, SETTINGS, tick } from "./_session_test_kit.ts";

const PING = encodeFrame(FrameType.PING, 0, 0, new Uint8Array(8));
const repeat = (n: number, frame: Uint8Array) => Array.from({ length: n }, () => frame);
const ENHANCE_YOUR_CALM = ErrorCode.ENHANCE_YOUR_CALM;

describe("floods end the connection with GOAWAY ENHANCE_YOUR_CALM", () => {
  test("CONTINUATION frames are bounded by count, not only by bytes", () => {
    const { send, goawayCode, st } = rawServer();
    const empty = encodeFrame(FrameType.CONTINUATION, 0, 1);
    send(CONNECTION_PREFACE, SETTINGS, headersFrame(1, CONNECT, 0), ...repeat(16, empty));
    expect(goawayCode()).toBe(ENHANCE_YOUR_CALM);
    expect(st.ended).toBe(true);
  });

  test("a header block in a few CONTINUATIONs is still fine", () => {
    const { send, goawayCode } = rawServer();
    const [a, b] = [CONNECT.subarray(0, 3), CONNECT.subarray(3)];
    send(CONNECTION_PREFACE, SETTINGS, headersFrame(1, a, 0), encodeFrame(FrameType.CONTINUATION, 0, 1), encodeFrame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, b));
    expect(goawayCode()).toBeUndefined();
  });

  for (const [name, frame] of [["PING", PING], ["SETTINGS", SETTINGS]] as const) {
    test(`${name} answers pile up only to 1000 while the peer does not read`, () => {
      const { send, goawayCode, st } = rawServer();
      send(CONNECTION_PREFACE, SETTINGS);
      st.stalled = true;
      send(...repeat(1000, frame));
      expect(goawayCode()).toBeUndefined();
      send(frame);
      expect(goawayCode()).toBe(ENHANCE_YOUR_CALM);
    });

    test(`${name}s answered to a peer that reads are not a flood`, () => {
      const { s, send, goawayCode, st } = rawServer();
      send(CONNECTION_PREFACE, SETTINGS);
      for (let i = 0; i < 5; i++) {
        st.stalled = true;
        send(...repeat(900, frame));
        st.stalled = false;
        s.transportDrained();
      }
      expect(goawayCode()).toBeUndefined();
    });
  }

  // A stopped clock: no token is earned back while the test runs, however loaded the machine.
  const stopped = { limits: { now: () => 0 } };

  test("rapid reset: streams reset before their response are bounded (CVE-2023-44487)", () => {
    const { send, goawayCode } = rawServer(stopped);
    send(CONNECTION_PREFACE, SETTINGS);
    const pairs = (from: number, n: number) => Array.from({ length: n }, (_, i) => [headersFrame(from + 2 * i), encodeRstStream(from + 2 * i, ErrorCode.CANCEL)]).flat();
    send(...pairs(1, 100));
    expect(goawayCode()).toBeUndefined();
    send(...pairs(201, 1));
    expect(goawayCode()).toBe(ENHANCE_YOUR_CALM);
  });

  test("resets earn back at 20 a second, so a slow trickle of cancels is allowed", () => {
    let now = 0;
    const { send, goawayCode } = rawServer({ limits: { now: () => now } });
    send(CONNECTION_PREFACE, SETTINGS);
    for (let id = 1; id < 2 * 300; id += 2) {
      send(headersFrame(id), encodeRstStream(id, ErrorCode.CANCEL));
      now += 50;
    }
    expect(goawayCode()).toBeUndefined();
  });

  test("faults we must answer with RST_STREAM are bounded (DATA on closed streams)", () => {
    const { send, goawayCode, rstCodes } = rawServer(stopped);
    send(CONNECTION_PREFACE, SETTINGS, headersFrame(1, CONNECT, Flag.END_HEADERS | Flag.END_STREAM));
    send(...repeat(1001, encodeFrame(FrameType.DATA, 0, 1, new Uint8Array(1))));
    expect(rstCodes().filter((c) => c === ErrorCode.STREAM_CLOSED).length).toBe(1000);
    expect(goawayCode()).toBe(ENHANCE_YOUR_CALM);
  });
});

describe("windows bound what one connection holds", () => {
  test("the connection window is returned only as readers consume", async () => {
    const connectionWindow = 1024 * 1024;
    const { client, streams, st } = pair({ connectionWindow, streamWindow: 512 * 1024 });
    const sent = [1, 2, 3].map(() => client.request({ ":method": "CONNECT", ":authority": "a:1" }));
    await tick();
    for (const [inbound] of streams) {
      inbound.respond({ ":status": 200 });
      inbound.pause();
    }
    const chunk = Buffer.alloc(64 * 1024);
    for (const s of sent) for (let i = 0; i < 16; i++) s.write(chunk);
    await tick();
    const held = () => streams.reduce((n, [inbound]) => n + inbound.readableLength, 0);
    const connectionUpdates = () => st.frames().filter((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 0).length;
    // Three readers that read nothing hold at most the connection window; it was never granted back.
    expect(held()).toBeLessThanOrEqual(connectionWindow);
    expect(connectionUpdates()).toBe(1); // the opening one
    streams[0]![0].resume();
    await new Promise((r) => setTimeout(r, 50));
    expect(connectionUpdates()).toBeGreaterThan(1);
  });

  test("the server advertises ztunnel's stream limit, 100, and refuses the 101st stream", () => {
    const { st, send, rstCodes } = rawServer();
    const settings = st.frames().find((f) => f.type === FrameType.SETTINGS)!;
    const values = new Map<number, number>();
    for (let i = 0; i < settings.payload.length; i += 6) values.set((settings.payload[i]! << 8) | settings.payload[i + 1]!, readUint32(settings.payload, i + 2));
    expect(values.get(Setting.MAX_CONCURRENT_STREAMS)).toBe(100);
    send(CONNECTION_PREFACE, SETTINGS, ...Array.from({ length: 101 }, (_, i) => headersFrame(2 * i + 1)));
    expect(rstCodes()).toEqual([ErrorCode.REFUSED_STREAM]);
  });
});

describe("clocks", () => {
  test("a peer that answers no keepalive PING is dropped", async () => {
    const { s, send, st, errors } = rawServer({ keepaliveIntervalMs: 20, keepaliveTimeoutMs: 20 });
    send(CONNECTION_PREFACE, SETTINGS);
    await new Promise((r) => s.once("close", r));
    expect(st.frames().some((f) => f.type === FrameType.PING && !(f.flags & Flag.ACK))).toBe(true);
    expect(st.destroyed).toBe(true);
    expect(errors[0]?.message).toMatch(/keepalive/);
  });

  test("a peer that answers keepalives stays connected", async () => {
    const { client, server } = pair({ keepaliveIntervalMs: 20, keepaliveTimeoutMs: 20 }, { keepaliveIntervalMs: 20, keepaliveTimeoutMs: 20 });
    await new Promise((r) => setTimeout(r, 150));
    expect([client.destroyed, server.destroyed]).toEqual([false, false]);
  });

  test("a connection with no stream for the idle timeout is closed gracefully", async () => {
    const { client, server } = pair({ idleTimeoutMs: 30 });
    const stream = client.request({ ":method": "CONNECT", ":authority": "a:1" });
    await new Promise((r) => setTimeout(r, 60));
    expect(server.closed).toBe(false); // a stream is open: not idle
    stream.close(ErrorCode.CANCEL);
    const goaway = await new Promise<number>((r) => client.once("goaway", (code: number) => r(code)));
    expect(goaway).toBe(ErrorCode.NO_ERROR);
  });
});

describe("graceful close and stream ids", () => {
  test("close() sends two GOAWAYs: streams in flight before the second are still served", () => {
    const streams: H2Stream[] = [];
    const { s, send, st, rstCodes } = rawServer({ onStream: (stream) => void streams.push(stream) });
    send(CONNECTION_PREFACE, SETTINGS);
    s.close();
    const goaways = () => st.frames().filter((f) => f.type === FrameType.GOAWAY).map((f) => readUint32(f.payload, 0));
    expect(goaways()).toEqual([2 ** 31 - 1]);
    const ping = st.frames().find((f) => f.type === FrameType.PING)!;
    send(headersFrame(1)); // sent before the client saw the GOAWAY
    expect(streams.length).toBe(1);
    send(encodeFrame(FrameType.PING, Flag.ACK, 0, ping.payload));
    expect(goaways()).toEqual([2 ** 31 - 1, 1]);
    send(headersFrame(3));
    expect(streams.length).toBe(1);
    expect(rstCodes()).toEqual([ErrorCode.REFUSED_STREAM]);
    expect(st.ended).toBe(false); // stream 1 is still open
    streams[0]!.close(ErrorCode.CANCEL);
    expect(st.ended).toBe(true);
  });

  test("a client knows how many stream ids it has left and never reuses one", () => {
    const client = new H2Session({ role: "client", transport: new MemoryTransport(), firstStreamId: 2 ** 31 - 3 });
    expect(client.streamIdsLeft).toBe(2);
    client.request({ ":method": "CONNECT", ":authority": "a:1" });
    client.request({ ":method": "CONNECT", ":authority": "a:1" });
    expect(client.streamIdsLeft).toBe(0);
    expect(() => client.request({ ":method": "CONNECT", ":authority": "a:1" })).toThrow(/exhausted/);
  });
});

describe("fair writes", () => {
  test("when the connection window opens, blocked streams share it frame by frame", async () => {
    const ct = new MemoryTransport();
    const client = new H2Session({ role: "client", transport: ct });
    // The server's SETTINGS: large stream windows, so only the 65,535-byte connection window limits.
    client.receive(concatBytes([encodeSettings([[Setting.INITIAL_WINDOW_SIZE, 1 << 20]])]));
    const [a, b] = [client.request({ ":method": "CONNECT", ":authority": "a:1" }), client.request({ ":method": "CONNECT", ":authority": "a:2" })];
    a.write(Buffer.alloc(256 * 1024));
    b.write(Buffer.alloc(256 * 1024));
    await tick();
    const sentOn = (id: number) => ct.frames().filter((f) => f.type === FrameType.DATA && f.streamId === id).reduce((n, f) => n + f.payload.length, 0);
    expect(sentOn(1)).toBe(65_535);
    expect(sentOn(3)).toBe(0);
    client.receive(encodeWindowUpdate(0, 8 * 16_384));
    // Turns of one 16 KiB frame each: b, waiting longest, goes first; then they alternate.
    expect(sentOn(3)).toBe(4 * 16_384);
    expect(sentOn(1) - 65_535).toBe(4 * 16_384);
  });
});
