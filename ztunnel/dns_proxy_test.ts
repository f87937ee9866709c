// The DNS proxy over real sockets on a loopback address: mesh answers over UDP
// and TCP, what it refuses to answer, and forwarding to an upstream that is a
// UDP socket in this test (no other resolver is reachable here).
import { afterAll, describe, expect, test } from "bun:test";
import * as dgram from "node:dgram";
import * as net from "node:net";
import { loopbackAddress } from "../testing/loopback.ts";
import { testService } from "../testing/resources.ts";
import { Logger } from "../telemetry/mod.ts";
import { DnsType, encodeQuery } from "./dns_message.ts";
import { DnsProxy, upstreamFromResolvConf } from "./dns_proxy.ts";
import { ProxyState } from "./state.ts";

const state = new ProxyState({
  workloads: [],
  services: [testService("hello", "demo", { vips: [{ network: "", address: "10.96.0.10" }] })],
  policies: [],
});
const log = new Logger({ level: "error" });
const address = loopbackAddress();
const upstream = dgram.createSocket("udp4");
await new Promise<void>((r) => upstream.bind(0, address, () => r()));
// The fake upstream answers "example.org" with its own id and one flag set, and ignores "slow.example".
upstream.on("message", (m, from) => {
  if (m.includes(Buffer.from("slow"))) return;
  const reply = Buffer.from(m);
  reply[2] = 0x81;
  reply[3] = 0x80;
  upstream.send(reply, from.port, from.address);
});
const proxy = new DnsProxy({ state: () => state, clusterDomain: "cluster.local", upstream: `${address}:${upstream.address().port}`, log, forwardTimeoutMs: 300 });
const PORT = 20000 + Math.floor(Math.random() * 20000);
await proxy.listen(address, PORT);
afterAll(() => (proxy.close(), upstream.close()));

function udpAsk(bytes: Uint8Array[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket("udp4");
    const timer = setTimeout(() => (s.close(), reject(new Error("no answer"))), 3000);
    s.on("message", (m) => (clearTimeout(timer), s.close(), resolve(m)));
    for (const b of bytes) s.send(b, PORT, address);
  });
}

describe("DnsProxy", () => {
  test("answers a mesh name over UDP with its VIP", async () => {
    const a = await udpAsk([encodeQuery(0x4242, "hello.demo.svc.cluster.local", DnsType.A)]);
    expect(a.readUInt16BE(0)).toBe(0x4242);
    expect(a.readUInt16BE(6)).toBe(1);
    expect([...a.subarray(a.length - 4)]).toEqual([10, 96, 0, 10]);
  });

  test("says nothing to a response sent as a query (no reflection), then answers the next query", async () => {
    const response = encodeQuery(1, "hello.demo.svc.cluster.local", DnsType.A);
    response[2]! |= 0x80;
    const a = await udpAsk([response, encodeQuery(2, "hello.demo.svc.cluster.local", DnsType.A)]);
    expect(a.readUInt16BE(0)).toBe(2);
  });

  test("answers a query over TCP, framed by length", async () => {
    const q = encodeQuery(7, "hello.demo.svc.cluster.local", DnsType.A);
    const framed = Buffer.concat([Buffer.from([0, q.length]), q]);
    const got = await new Promise<Buffer>((resolve, reject) => {
      const s = net.connect(PORT, address, () => s.write(framed));
      let buf = Buffer.alloc(0);
      s.on("data", (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) (s.destroy(), resolve(buf.subarray(2)));
      });
      s.on("error", reject);
    });
    expect(got.readUInt16BE(0)).toBe(7);
    expect([...got.subarray(got.length - 4)]).toEqual([10, 96, 0, 10]);
  });

  test("closes a TCP client that announces a message over the limit", async () => {
    const closed = await new Promise<boolean>((resolve) => {
      const s = net.connect(PORT, address, () => s.write(Buffer.from([0xff, 0xff, 0, 0])));
      s.on("close", () => resolve(true));
      s.on("error", () => {});
    });
    expect(closed).toBe(true);
  });

  test("forwards other names to the upstream and relays its answer", async () => {
    const a = await udpAsk([encodeQuery(0x1111, "example.org", DnsType.A)]);
    expect(a.readUInt16BE(0)).toBe(0x1111);
    expect(a.readUInt16BE(2)).toBe(0x8180);
  });

  test("an upstream that does not answer in time gives SERVFAIL", async () => {
    const a = await udpAsk([encodeQuery(0x2222, "slow.example", DnsType.A)]);
    expect(a.readUInt16BE(0)).toBe(0x2222);
    expect(a.readUInt16BE(2) & 0xf).toBe(2);
  });
});

test.each([
  ["the first outside nameserver", "search x\nnameserver 10.0.0.2\nnameserver 10.0.0.3\n", "10.0.0.2"],
  ["a loopback stub", "nameserver 127.0.0.53\nnameserver fd00::53\n", "127.0.0.53"],
  ["not an address", "nameserver resolver.local\nnameserver fd00::53\n", "fd00::53"],
  ["none", "options ndots:5\n", undefined],
])("upstreamFromResolvConf: %s", (_, text, want) => expect(upstreamFromResolvConf(text)).toBe(want));
