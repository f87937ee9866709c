// The far side of bench/hbone.ts, in its own process: a TCP sink, a TLS sink
// with the same certificate HBONE uses, an echo server, and an HBONE server that
// tunnels to them. Prints one JSON line with the ports.
import * as fs from "node:fs";
import * as net from "node:net";
import * as tls from "node:tls";
import { HboneServer, HBONE_TLS, tlsCredentials, upstreamError } from "../hbone/mod.ts";
import { splitPemCertificates, summarizeLeaf } from "../identity/mod.ts";

const [address, certFile, keyFile, caFile] = process.argv.slice(2) as [string, string, string, string];
const chainPem = splitPemCertificates(fs.readFileSync(certFile, "utf8"));
const cert = {
  ...summarizeLeaf(chainPem[0]!),
  chainPem,
  privateKeyPem: fs.readFileSync(keyFile, "utf8"),
  trustBundlePem: splitPemCertificates(fs.readFileSync(caFile, "utf8")),
};

/** Counts bytes until FIN, then answers the count and closes. */
const sink = (s: net.Socket) => {
  let n = 0;
  s.on("data", (d: Buffer) => void (n += d.length));
  s.on("end", () => s.end(String(n)));
  s.on("error", () => {});
};
const listen = (server: net.Server) =>
  new Promise<number>((r) => server.listen(0, address, () => r((server.address() as net.AddressInfo).port)));

const tcpSink = await listen(net.createServer({ allowHalfOpen: true }, (s) => (s.setNoDelay(true), sink(s))));
const echo = await listen(net.createServer({ allowHalfOpen: true }, (s) => (s.setNoDelay(true), s.pipe(s), s.on("error", () => {}))));
const tlsSink = await listen(tls.createServer({ ...HBONE_TLS, ALPNProtocols: undefined, ...tlsCredentials(cert), requestCert: true, allowHalfOpen: true }, (s) => (s.setNoDelay(true), sink(s))));
// One HBONE server per HTTP/2 stack, so both are measured in the same run.
const hboneServer = (http2: "lean" | "node") =>
  new HboneServer({
    trustDomain: cert.identity.trustDomain,
    http2,
    connectUpstream: (t) =>
      new Promise((resolve, reject) => {
        const s = net.connect({ host: t.destination.address, port: t.destination.port, allowHalfOpen: true, noDelay: true });
        s.once("connect", () => resolve(s));
        s.once("error", (e) => reject(upstreamError("dial", e)));
      }),
  }).listen({ address, port: 0 }, cert).then((a) => a.port);
console.log(JSON.stringify({ tcpSink, echo, tlsSink, hbone: { lean: await hboneServer("lean"), node: await hboneServer("node") } }));
