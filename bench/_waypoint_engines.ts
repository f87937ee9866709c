// The HTTP-engine comparison behind docs/waypoint.md: requests per second over
// an in-memory duplex (what a terminated tunnel is), one keep-alive connection,
// 16 requests in flight (pipelined for HTTP/1.1, streams for h2c).
//   a) node:http server fed with emit("connection")
//   b) a minimal hand-written HTTP/1.1 parser (GET only, no bodies): the ceiling
//      an own parser could reach before doing the work node:http does
//   c) node:http2 server fed with emit("connection"), h2c
// Run: bun bench/_waypoint_engines.ts  |  deno run -A bench/_waypoint_engines.ts
import * as http from "node:http";
import * as http2 from "node:http2";
import type { Duplex } from "node:stream";
import { connectedPair } from "../waypoint/duplex_pair.ts";

const N = 20_000;
const DEPTH = 16;
const REQ = "GET /bench HTTP/1.1\r\nhost: echo\r\nuser-agent: bench\r\naccept: */*\r\n\r\n";
const BODY = "hello";

async function h1(feed: (server: Duplex) => void): Promise<number> {
  const [client, server] = connectedPair();
  feed(server);
  const t0 = performance.now();
  let done = 0;
  let sent = 0;
  let buf = "";
  await new Promise<void>((resolve) => {
    client.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      let i;
      while ((i = buf.indexOf(BODY)) >= 0) {
        buf = buf.slice(i + BODY.length);
        done++;
        if (sent < N) (sent++, client.write(REQ));
        if (done === N) resolve();
      }
    });
    for (; sent < DEPTH; sent++) client.write(REQ);
  });
  client.destroy();
  return N / ((performance.now() - t0) / 1000);
}

function nodeHttp(server: Duplex): void {
  const s = http.createServer((_req, res) => {
    res.writeHead(200, { "content-length": String(BODY.length) });
    res.end(BODY);
  });
  Object.defineProperty(s, "listening", { get: () => true });
  // node:http calls socket timers a duplex does not have (the waypoint adapts its sockets the same way).
  Object.assign(server, { setTimeout: () => server, setNoDelay: () => server, setKeepAlive: () => server });
  s.emit("connection", server);
}

function ownParser(server: Duplex): void {
  let pending = "";
  server.on("data", (d: Buffer) => {
    pending += d.toString("latin1");
    let end;
    const out: string[] = [];
    while ((end = pending.indexOf("\r\n\r\n")) >= 0) {
      const head = pending.slice(0, end);
      pending = pending.slice(end + 4);
      const lines = head.split("\r\n");
      const [method, target, version] = lines[0]!.split(" ");
      const headers: Record<string, string> = {};
      for (let i = 1; i < lines.length; i++) {
        const c = lines[i]!.indexOf(":");
        headers[lines[i]!.slice(0, c).toLowerCase()] = lines[i]!.slice(c + 1).trim();
      }
      if (!method || !target || version !== "HTTP/1.1" || !headers.host) continue;
      out.push(`HTTP/1.1 200 OK\r\ncontent-length: ${BODY.length}\r\n\r\n${BODY}`);
    }
    if (out.length) server.write(out.join(""));
  });
}

async function h2c(): Promise<number> {
  const [client, server] = connectedPair();
  const s = http2.createServer((_req, res) => {
    res.writeHead(200, { "content-length": String(BODY.length) });
    res.end(BODY);
  });
  s.emit("connection", server);
  const session = http2.connect("http://bench", { createConnection: () => client as never });
  const t0 = performance.now();
  let sent = 0;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const st = session.request({ ":path": "/bench" });
      st.on("data", () => {});
      st.on("end", resolve);
      st.end();
    });
  await Promise.all(Array.from({ length: DEPTH }, async () => {
    while (sent < N) {
      sent++;
      await one();
    }
  }));
  const rate = N / ((performance.now() - t0) / 1000);
  session.destroy();
  return rate;
}

const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "deno";
const cases: [string, () => Promise<number>][] = [
  ["node:http emit(connection)", () => h1(nodeHttp)],
  ["own minimal HTTP/1.1 parser", () => h1(ownParser)],
  ["node:http2 emit(connection), h2c", h2c],
];
for (const [name, run] of cases) console.log(`${runtime}\t${name}\t${Math.round(await run())} req/s`);
process.exit(0);
