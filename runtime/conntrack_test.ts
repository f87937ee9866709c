import { describe, expect, test } from "bun:test";
import { findOriginalDestination, parseConntrackLine } from "./conntrack.ts";

// Lines as the kernel printed them in a test namespace (nftables `redirect to :15001`).
const REDIRECTED = "ipv4     2 tcp      6 431999 ESTABLISHED src=10.200.0.1 dst=10.200.0.9 sport=53370 dport=80 src=127.0.0.1 dst=10.200.0.1 sport=15001 dport=53370 [ASSURED] mark=0 zone=0 use=2";
const DIRECT = "ipv4     2 tcp      6 431999 ESTABLISHED src=127.0.0.1 dst=127.0.0.1 sport=40000 dport=15001 src=127.0.0.1 dst=127.0.0.1 sport=15001 dport=40000 [ASSURED] mark=0 zone=0 use=2";
const UDP = "ipv4     2 udp      17 29 src=10.200.0.1 dst=10.255.255.53 sport=41000 dport=53 src=127.0.0.1 dst=10.200.0.1 sport=15053 dport=41000 mark=0 zone=0 use=2";
const DNAT = "ipv4     2 tcp      6 120 SYN_RECV src=10.77.0.1 dst=10.77.2.1 sport=50000 dport=8080 src=10.77.2.1 dst=10.77.0.1 sport=15006 dport=50000 mark=0 zone=0 use=2";
const table = [UDP, DIRECT, REDIRECTED, DNAT, "garbage", ""].join("\n");

describe("conntrack", () => {
  test("parses both directions of a TCP entry", () => {
    expect(parseConntrackLine(REDIRECTED)).toEqual({
      original: { src: { address: "10.200.0.1", port: 53370 }, dst: { address: "10.200.0.9", port: 80 } },
      reply: { src: { address: "127.0.0.1", port: 15001 }, dst: { address: "10.200.0.1", port: 53370 } },
    });
  });
  test.each([
    ["UDP is not TCP", UDP],
    ["a line with missing fields", "ipv4 2 tcp 6 1 ESTABLISHED src=1.2.3.4 dst=5.6.7.8 sport=1"],
    ["an empty line", ""],
  ])("ignores %s", (_, line) => expect(parseConntrackLine(line)).toBeUndefined());

  test.each([
    ["a redirected connection", { address: "127.0.0.1", port: 15001 }, { address: "10.200.0.1", port: 53370 }, { address: "10.200.0.9", port: 80 }],
    ["a DNAT to the plaintext port", { address: "10.77.2.1", port: 15006 }, { address: "10.77.0.1", port: 50000 }, { address: "10.77.2.1", port: 8080 }],
    ["an IPv4-mapped peer", { address: "::ffff:127.0.0.1", port: 15001 }, { address: "::ffff:10.200.0.1", port: 53370 }, { address: "10.200.0.9", port: 80 }],
    ["a connection dialled to the listener itself", { address: "127.0.0.1", port: 15001 }, { address: "127.0.0.1", port: 40000 }, undefined],
    ["a client port with no entry", { address: "127.0.0.1", port: 15001 }, { address: "10.200.0.1", port: 1 }, undefined],
  ])("finds %s", (_, local, peer, want) => expect(findOriginalDestination(table, local, peer)).toEqual(want));
});
