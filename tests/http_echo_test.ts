// The echo backend every waypoint suite answers from reads each request body
// in order however it arrives. A request written in 16 KB pieces, each on its
// own turn of the event loop (as a ztunnel relays HTTP/2 DATA frames), once
// reached a Deno echo server's parser out of order: the bytes read to tell
// h2c from HTTP/1.1 were put back with unshift() and replayed after the next
// read (testing/http_echo.ts, handOver). Raw sockets, no mesh.
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as http2 from "node:http2";
import * as net from "node:net";
import { afterAll, test } from "../testing/harness.ts";
import { startHttpEcho } from "../testing/http_echo.ts";
import { loopbackAddress } from "../testing/loopback.ts";

const echo = await startHttpEcho("echo", loopbackAddress());
afterAll(() => echo.close());

const PIECE = 16_384;

/** One POST over its own connection, written a piece per turn; resolves with the raw response. */
function postInPieces(body: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const head = `POST /pieces HTTP/1.1\r\nhost: echo\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`;
    const all = Buffer.concat([Buffer.from(head), body]);
    const socket = net.connect(echo.port, echo.address, async () => {
      for (let o = 0; o < all.length; o += PIECE) {
        socket.write(all.subarray(o, o + PIECE));
        await new Promise((r) => setImmediate(r));
      }
    });
    let answer = "";
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => (answer += d));
    socket.on("close", () => resolve(answer));
    socket.on("error", reject);
  });
}

test("HTTP/1.1 bodies of 60-200 KB arriving a piece per turn are echoed byte for byte", async () => {
  const failures: string[] = [];
  for (let i = 0; i < 60; i++) {
    const body = crypto.randomBytes(60_000 + crypto.randomInt(140_000));
    const answer = await postInPieces(body);
    const json = answer.slice(answer.indexOf("\r\n\r\n") + 4);
    const ok = answer.startsWith("HTTP/1.1 200 ") && json.includes(`"bodyBytes":${body.length}`) &&
      json.includes(`"bodySha256":"${crypto.createHash("sha256").update(body).digest("hex")}"`);
    if (!ok) failures.push(`${body.length} B: ${answer.split("\r\n")[0]}`);
  }
  assert.deepEqual(failures, []);
}, { timeout: 60_000 });

test("h2c bodies are echoed byte for byte on the same port", async () => {
  const session = http2.connect(`http://${echo.address}:${echo.port}`);
  try {
    for (let i = 0; i < 10; i++) {
      const body = crypto.randomBytes(60_000 + crypto.randomInt(140_000));
      const stream = session.request({ ":method": "POST", ":path": "/h2" });
      stream.end(body);
      let json = "";
      stream.setEncoding("utf8");
      stream.on("data", (d: string) => (json += d));
      await new Promise((resolve, reject) => (stream.once("end", resolve), stream.once("error", reject)));
      const echoed = JSON.parse(json) as { bodyBytes: number; bodySha256: string; protocol: string };
      assert.equal(echoed.protocol, "HTTP/2.0");
      assert.equal(echoed.bodyBytes, body.length);
      assert.equal(echoed.bodySha256, crypto.createHash("sha256").update(body).digest("hex"));
    }
  } finally {
    session.close();
  }
}, { timeout: 30_000 });
