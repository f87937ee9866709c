// The far side of bench/l4.ts, in its own process: the sink workload's servers on
// its own loopback address — a byte-counting sink and a 1-byte echo. Prints one
// JSON line with the ports once both listen.
import * as net from "node:net";

const [address, sinkPort, echoPort] = process.argv.slice(2) as [string, string, string];

/** Counts bytes until FIN, then answers the count and closes. */
const sink = (s: net.Socket) => {
  let n = 0;
  s.setNoDelay(true);
  s.on("data", (d: Buffer) => void (n += d.length));
  s.on("end", () => s.end(String(n)));
  s.on("error", () => {});
};
/** Sends every byte back; FIN for FIN. */
const echo = (s: net.Socket) => {
  s.setNoDelay(true);
  s.on("error", () => {});
  s.pipe(s);
};
const listen = (server: net.Server, port: number) =>
  new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host: address, backlog: 2048 }, () => resolve((server.address() as net.AddressInfo).port));
  });

const ports = {
  sink: await listen(net.createServer({ allowHalfOpen: true }, sink), Number(sinkPort)),
  echo: await listen(net.createServer({ allowHalfOpen: true }, echo), Number(echoPort)),
};
console.log(JSON.stringify(ports));
