// Bun 1.4.5: calling setLocalWindowSize() on a receiving HTTP/2 session stalls
// every stream at the initial window (upstream bun PR #40180). Ambit never calls
// it. This test shows the stall so the day Bun fixes it, we notice and can raise
// the window for throughput. Bun only: the bug and the workaround are Bun's.
import * as assert from "node:assert/strict";
import * as http2 from "node:http2";
import { knownFailure, runtime, test } from "../testing/mod.ts";

async function transferWithWindow(bytes: number, windowSize: number | undefined): Promise<number> {
  const server = http2.createServer();
  server.on("stream", (stream: http2.ServerHttp2Stream) => {
    stream.respond({ ":status": 200 });
    stream.end(Buffer.alloc(bytes, 1));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    if (windowSize !== undefined) {
      await new Promise((r) => session.once("connect", r));
      session.setLocalWindowSize(windowSize);
    }
    const req = session.request({ ":path": "/" });
    let received = 0;
    req.on("data", (c) => (received += c.length));
    await Promise.race([
      new Promise((r) => req.on("end", r)),
      new Promise((r) => setTimeout(r, 3000)),
    ]);
    return received;
  } finally {
    session.destroy();
    server.close();
  }
}

test("a 4 MiB response arrives with the default windows (the path Ambit uses)", async () => {
  assert.equal(await transferWithWindow(4 * 1024 * 1024, undefined), 4 * 1024 * 1024);
});

if (runtime === "bun") {
  knownFailure("a 4 MiB response arrives after setLocalWindowSize(8 MiB)", "bun PR #40180", async () => {
    assert.equal(await transferWithWindow(4 * 1024 * 1024, 8 * 1024 * 1024), 4 * 1024 * 1024);
  });
}
