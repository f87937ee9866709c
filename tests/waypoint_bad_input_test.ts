// Bad input at the waypoint, over raw sockets carried by an HBONE tunnel (the
// test forwarder): request smuggling shapes, malformed and oversize heads,
// bad chunking, HTTP/2 protocol errors. Each is answered 400/431 (or the
// connection closed cleanly), counted in ambit_waypoint_protocol_errors_total,
// never reaches a backend, and the waypoint keeps serving.
import * as assert from "node:assert/strict";
import * as net from "node:net";
import { afterAll, test } from "../testing/harness.ts";
import { startWaypointMesh } from "../testing/waypoint_mesh.ts";

const mesh = await startWaypointMesh([{ name: "echo", vip: "10.96.4.1", backends: ["echo-v1"] }]);
afterAll(() => mesh.stop());

const H = "Host: echo.default.svc.cluster.local\r\n";
const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const frame = (type: number, flags: number, stream: number, payload: Buffer) => {
  const b = Buffer.alloc(9);
  b.writeUIntBE(payload.length, 0, 3);
  b[3] = type;
  b[4] = flags;
  b.writeUInt32BE(stream, 5);
  return Buffer.concat([b, payload]);
};

/** [name, bytes, accepted statuses (0 = closed without a response)] */
const CORPUS: [string, string | Buffer, number[]][] = [
  ["CL.TE smuggling: Content-Length and Transfer-Encoding", `POST / HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`, [400]],
  ["TE.CL smuggling: chunked then a second Content-Length", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n`, [400]],
  ["two different Content-Length values", `POST / HTTP/1.1\r\n${H}Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde`, [400]],
  ["Content-Length with a letter", `POST / HTTP/1.1\r\n${H}Content-Length: 1a\r\n\r\nx`, [400]],
  ["negative Content-Length", `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`, [400]],
  ["Content-Length past 2^64", `POST / HTTP/1.1\r\n${H}Content-Length: 99999999999999999999999\r\n\r\n`, [400]],
  ["Transfer-Encoding: gzip, chunked (not re-framed safely)", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, [400]],
  ["Transfer-Encoding: xchunked", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`, [400]],
  ["Transfer-Encoding: chunked, chunked", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n`, [400]],
  ["obs-fold header continuation", `GET / HTTP/1.1\r\n${H}X-Folded: a\r\n  b\r\n\r\n`, [400]],
  ["chunk size not hex", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`, [400]],
  ["chunk size overflowing", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nabc\r\n0\r\n\r\n`, [400]],
  ["chunk data without its CRLF", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nabcXX\r\n0\r\n\r\n`, [400]],
  ["space before the colon", `GET / HTTP/1.1\r\nHost : echo\r\n\r\n`, [400]],
  ["NUL in a header value", `GET / HTTP/1.1\r\n${H}X-Nul: a\u0000b\r\n\r\n`, [400]],
  ["bare CR in a header value", `GET / HTTP/1.1\r\n${H}X-Cr: a\rb\r\n\r\n`, [400]],
  ["bare LF line endings", `GET / HTTP/1.1\nHost: echo\n\n`, [400]],
  ["header past the size limit", `GET / HTTP/1.1\r\n${H}X-Big: ${"a".repeat(64 * 1024)}\r\n\r\n`, [431]],
  ["request line past the size limit", `GET /${"a".repeat(64 * 1024)} HTTP/1.1\r\n${H}\r\n`, [431, 400]],
  ["no Host on HTTP/1.1", `GET / HTTP/1.1\r\n\r\n`, [400]],
  ["two Host headers", `GET / HTTP/1.1\r\n${H}Host: evil.example\r\n\r\n`, [400]],
  ["invalid method token", `G(T / HTTP/1.1\r\n${H}\r\n`, [400]],
  ["unknown HTTP version", `GET / HTTP/9.9\r\n${H}\r\n`, [400, 505]],
  ["absolute-form target (a proxy request)", `GET http://evil.example/ HTTP/1.1\r\n${H}\r\n`, [400]],
  ["space inside the target", `GET /a b HTTP/1.1\r\n${H}\r\n`, [400]],
  ["a TLS ClientHello in plaintext", Buffer.from("16030100a5010000a10303" + "00".repeat(40), "hex"), [400, 0]],
  ["header name with a non-token byte", `GET / HTTP/1.1\r\n${H}X@Bad: v\r\n\r\n`, [400]],
  ["HTTP/2: preface then a frame on stream 0 that must not be there (HEADERS)", Buffer.concat([Buffer.from(PREFACE), frame(4, 0, 0, Buffer.alloc(0)), frame(1, 5, 0, Buffer.from([0x82]))]), [0]],
  ["HTTP/2: preface then garbage", Buffer.concat([Buffer.from(PREFACE), Buffer.from("this is not a frame at all, at all".repeat(4))]), [0]],
  ["HTTP/2: SETTINGS with a bad length", Buffer.concat([Buffer.from(PREFACE), frame(4, 0, 0, Buffer.alloc(5))]), [0]],
  ["HTTP/2: HEADERS with an undecodable HPACK block", Buffer.concat([Buffer.from(PREFACE), frame(4, 0, 0, Buffer.alloc(0)), frame(1, 5, 1, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f]))]), [0]],
];

/** Sends raw bytes over a fresh tunnel; resolves with the status answered (0: closed without one). */
async function send(bytes: string | Buffer): Promise<{ status: number; text: string }> {
  const f = await mesh.forwarder("echo");
  return new Promise((resolve) => {
    const socket = net.connect(f.port, f.address);
    let text = "";
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, text });
    };
    const timer = setTimeout(done, 5000);
    socket.on("data", (d) => {
      text += d.toString("latin1");
      if (/\r\n\r\n/.test(text) && /^HTTP\/1\.1 \d{3}/.test(text)) done();
    });
    socket.on("close", done);
    socket.on("error", done);
    socket.write(bytes);
  });
}

test(`a corpus of ${CORPUS.length} malformed requests: each refused, counted, none reaches a backend`, async () => {
  assert.ok(CORPUS.length >= 25);
  const before = mesh.backends["echo-v1"]!.seen.length;
  const wrong: string[] = [];
  for (const [name, bytes, accepted] of CORPUS) {
    const r = await send(bytes);
    if (!accepted.includes(r.status)) wrong.push(`${name}: got ${r.status || "close"} (${JSON.stringify(r.text.slice(0, 60))}), want ${accepted.join("/")}`);
  }
  assert.deepEqual(wrong, []);
  assert.equal(mesh.backends["echo-v1"]!.seen.length, before, "a malformed request reached the backend");
  const metrics = await mesh.waypoint.metrics();
  const counted = metrics.split("\n").filter((l) => l.startsWith("ambit_waypoint_protocol_errors_total{")).reduce((n, l) => n + Number(l.split(" ").pop()), 0);
  const refusedAtHead = metrics.split("\n").filter((l) => l.startsWith("istio_requests_total{") && l.includes('response_code="400"')).reduce((n, l) => n + Number(l.split(" ").pop()), 0);
  assert.ok(counted + refusedAtHead >= CORPUS.length, `only ${counted} protocol errors + ${refusedAtHead} refused heads counted for ${CORPUS.length} bad requests`);
  // Still serving, and alive.
  assert.equal((await mesh.request("echo", { path: "/after" })).status, 200);
  assert.equal(mesh.waypoint.proc.child.exitCode, null);
}, { timeout: 120_000 });

test("a good request after a bad one on the same connection is never run (the connection is closed)", async () => {
  const r = await send(`POST / HTTP/1.1\r\n${H}Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcdeGET /smuggled HTTP/1.1\r\n${H}\r\n`);
  assert.equal(r.status, 400);
  assert.ok(!mesh.backends["echo-v1"]!.seen.some((s) => s.path === "/smuggled"));
}, { timeout: 20_000 });
