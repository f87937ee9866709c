// The demo's `hello` service: answers every request with its version and node,
// so you can watch the mesh balance between v1 and v2 on two nodes.
//   bun samples/apps/hello.ts --version v1 --node node-a --address 127.0.20.2 [--port 8080]
import * as http from "node:http";
import { sampleArgs, serveUntilSignalled } from "./_sample_app.ts";

const { version, node, address, port } = sampleArgs(process.argv.slice(2), { version: "v1", node: "local", address: "127.0.0.1", port: "8080" });

const server = http.createServer((req, res) => {
  res.setHeader("content-type", "text/plain");
  res.end(`hello from ${version} on ${node}\n`);
});
serveUntilSignalled(server, address, Number(port), `hello ${version} listening on ${address}:${port}`);
