// The demo's client workload. Its ztunnel captures its traffic on
// <address>:15080 (SOCKS5), so anything sent from there carries its identity
// (spiffe://cluster.local/ns/demo/sa/client) — once it authenticates with the
// credentials its ztunnel wrote for it (the file --socks-credentials names holds
// its proxy URL, socks5h://client:<password>@<address>:15080; docs/security.md).
// It serves GET /call?url=http://hello.demo.svc.cluster.local/ and makes that
// call through the mesh itself, so the client is a real caller, not only a name.
//   bun samples/apps/client.ts --node node-a --address 127.0.20.1 --socks-credentials .ambit/socks/demo/client [--port 8080]
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import { sampleArgs, serveUntilSignalled } from "./_sample_app.ts";

const args = sampleArgs(process.argv.slice(2), { node: "local", address: "127.0.0.1", port: "8080", "socks-credentials": "" });
const { node, address, port } = args;

/** The proxy URL from the credentials file, read per call: the ztunnel writes it once it serves this workload. */
function proxy(): URL {
  const file = args["socks-credentials"];
  if (!file) throw new Error("no --socks-credentials file: the mesh only carries a workload that authenticates as itself");
  return new URL(fs.readFileSync(file, "utf8").trim());
}

/** An HTTP/1.0 GET through the SOCKS5 proxy (username/password, CONNECT by host name): the answer's body. */
function getThroughMesh(target: URL): Promise<string> {
  return new Promise((resolve, reject) => {
    const via = proxy();
    const user = Buffer.from(decodeURIComponent(via.username));
    const pass = Buffer.from(decodeURIComponent(via.password));
    const socket = net.connect(Number(via.port), via.hostname);
    let stage = 0;
    let buf = Buffer.alloc(0);
    socket.setTimeout(10_000, () => socket.destroy(new Error("timed out")));
    socket.on("error", reject);
    socket.on("connect", () => socket.write(Buffer.from([5, 1, 2])));
    socket.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (stage === 0 && buf.length >= 2) {
        if (buf[1] !== 2) return reject(new Error(`the mesh refused username/password (method ${buf[1]})`));
        socket.write(Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([pass.length]), pass]));
        [stage, buf] = [1, buf.subarray(2)];
      }
      if (stage === 1 && buf.length >= 2) {
        if (buf[1] !== 0) return reject(new Error("the mesh refused this workload's credentials"));
        const host = Buffer.from(target.hostname);
        const p = Number(target.port || 80);
        socket.write(Buffer.concat([Buffer.from([5, 1, 0, 3, host.length]), host, Buffer.from([p >> 8, p & 0xff])]));
        [stage, buf] = [2, buf.subarray(2)];
      }
      if (stage === 2 && buf.length >= 10) {
        if (buf[1] !== 0) return reject(new Error(`the mesh refused the connection (SOCKS5 reply ${buf[1]})`));
        socket.write(`GET ${target.pathname}${target.search} HTTP/1.0\r\nHost: ${target.host}\r\n\r\n`);
        [stage, buf] = [3, buf.subarray(10)];
      }
    });
    socket.on("end", () => {
      const text = buf.toString();
      resolve(text.slice(text.indexOf("\r\n\r\n") + 4));
    });
  });
}

const server = http.createServer(async (req, res) => {
  res.setHeader("content-type", "text/plain");
  const url = new URL(req.url ?? "/", "http://client");
  if (url.pathname !== "/call") {
    res.end(`client on ${node}: GET /call?url=http://hello.demo.svc.cluster.local/ calls through the mesh\n`);
    return;
  }
  try {
    res.end(await getThroughMesh(new URL(url.searchParams.get("url") ?? "http://hello.demo.svc.cluster.local/")));
  } catch (e) {
    res.statusCode = 502;
    res.end(`call failed: ${(e as Error).message}\n`);
  }
});
serveUntilSignalled(server, address, Number(port), `client listening on ${address}:${port}, calling through the SOCKS5 proxy in ${args["socks-credentials"] || "(no credentials file)"}`);
