// The floor for bench/startup.ts: the smallest Bun service there is, an HTTP
// server answering 200 on :15021 of the address it is given, compiled with the
// same flags as Ambit's binaries.
import * as http from "node:http";

http.createServer((_req, res) => res.end("ok")).listen(15021, process.argv[2]);
