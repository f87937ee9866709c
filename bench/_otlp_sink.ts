// A collector stand-in for the tracing benchmark, in its own process (a real
// collector is never in the proxy's process, and decoding in the bench process
// would slow the load generator, not the waypoint): accepts OTLP/HTTP POSTs,
// answers 200 without decoding, and tells the posts and bytes it took on GET /count.
import * as http from "node:http";

const address = process.argv[2] ?? "127.0.0.1";
let posts = 0, bytes = 0;
const server = http.createServer((req, res) => {
  if (req.url === "/count") return void res.end(JSON.stringify({ posts, bytes }));
  req.on("data", (c: Buffer) => void (bytes += c.length));
  req.on("end", () => {
    posts++;
    res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
  });
});
server.listen(0, address, () => console.log(`otlp sink listening ${(server.address() as { port: number }).port}`));
