import { describe, expect, test } from "bun:test";
import { Duplex } from "node:stream";
import { endInsteadOfReset } from "./graceful_tunnel.ts";

/** A stand-in for a CONNECT stream: records what the client did to it. */
function fakeTunnel() {
  const ended: boolean[] = [];
  const t = new Duplex({
    allowHalfOpen: true,
    read() {},
    write(_c, _e, cb) {
      cb();
    },
    final(cb) {
      ended.push(true);
      cb();
    },
  });
  return { t, ended };
}

describe("endInsteadOfReset", () => {
  test("destroy() without an error half-closes the tunnel instead of resetting it", async () => {
    const { t, ended } = fakeTunnel();
    endInsteadOfReset(t);
    t.destroy();
    expect(t.destroyed).toBe(false);
    await new Promise((r) => setImmediate(r));
    expect(ended).toEqual([true]);
    t.push(null); // the endpoint's END_STREAM
    await new Promise((r) => t.once("close", r));
  });

  test("a reset after the HTTP client let go of the tunnel is not an unhandled error", async () => {
    const { t } = fakeTunnel();
    endInsteadOfReset(t);
    t.destroy(); // node:http is done with it: "socket hang up" already answered
    const closed = new Promise((r) => t.once("close", r));
    expect(() => t.destroy(new Error("Stream closed with error code NGHTTP2_CONNECT_ERROR"))).not.toThrow();
    await closed; // the error event went out on the next tick without an uncaught exception
    expect(t.destroyed).toBe(true);
  });

  test("while the HTTP client holds the tunnel its own error listener still gets the error", async () => {
    const { t } = fakeTunnel();
    endInsteadOfReset(t);
    const seen = new Promise<Error>((r) => t.once("error", r));
    t.destroy(new Error("boom"));
    expect((await seen).message).toBe("boom");
  });
});
