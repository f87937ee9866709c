// copyBidirectional with a real TCP peer on one side and, on the other, a
// Duplex standing in for a tunnel stream (the state Deno's node:http2 reports).
import * as assert from "node:assert/strict";
import * as net from "node:net";
import { Duplex } from "node:stream";
import { test } from "bun:test";
import { copyBidirectional } from "./copy.ts";

/** A server that reads to the end and never ends its own side (a half-open keep-alive peer). */
async function neverEndingServer() {
  const events: string[] = [];
  const received: Buffer[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on("data", (c: Buffer) => received.push(c));
    s.on("end", () => events.push("end"));
    s.on("close", () => events.push("close"));
    s.write("response");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const socket = net.connect({ host: "127.0.0.1", port: (server.address() as net.AddressInfo).port, allowHalfOpen: true });
  await new Promise((r) => socket.once("connect", r));
  return { server, socket, events, received };
}

function tunnelStream() {
  const written: Buffer[] = [];
  const stream = new Duplex({ allowHalfOpen: true, read() {}, write(c: Buffer, _e, cb) { written.push(c); cb(); } });
  return { stream, written };
}

test("a tunnel that finishes and closes cleanly before the app ends: the app's socket is closed, the copy ends", async () => {
  const app = await neverEndingServer();
  const tunnel = tunnelStream();
  const copied = copyBidirectional(tunnel.stream, app.socket);
  tunnel.stream.push("request");
  tunnel.stream.push(null);
  await new Promise((r) => setTimeout(r, 50));
  // The peer's END_STREAM came, then the stream reported itself finished and closed.
  tunnel.stream.end();
  await new Promise((r) => tunnel.stream.once("finish", r));
  tunnel.stream.destroy();
  const result = await copied;
  assert.equal(result.sent, 7);
  assert.equal(result.error, undefined);
  assert.ok(app.socket.destroyed, "the socket to the app is closed (its FIN went with the request)");
  assert.deepEqual(app.events, ["end"], "the app saw the request's FIN");
  assert.equal(Buffer.concat(app.received).toString(), "request");
  assert.equal(Buffer.concat(tunnel.written).toString(), "response");
  app.server.close();
});

test("a half-close still works: the app answers after the tunnel's FIN and the copy waits for it", async () => {
  const events: string[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.resume();
    s.on("end", () => setTimeout(() => s.end("late answer"), 30));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const socket = net.connect({ host: "127.0.0.1", port: (server.address() as net.AddressInfo).port, allowHalfOpen: true });
  await new Promise((r) => socket.once("connect", r));
  const tunnel = tunnelStream();
  tunnel.stream.on("finish", () => events.push("finish"));
  const copied = copyBidirectional(tunnel.stream, socket);
  tunnel.stream.push("q");
  tunnel.stream.push(null);
  tunnel.stream.on("finish", () => tunnel.stream.destroy());
  const result = await copied;
  assert.equal(Buffer.concat(tunnel.written).toString(), "late answer");
  assert.deepEqual([result.sent, result.received, events], [1, 11, ["finish"]]);
  server.close();
});
