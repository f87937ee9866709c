// Table tests for the DNS proxy's decision over a small mesh.
import { describe, expect, test } from "bun:test";
import { testService } from "../testing/resources.ts";
import { answerQuery } from "./dns_answer.ts";
import { DnsRcode, DnsType, encodeQuery, parseQuery } from "./dns_message.ts";
import { ProxyState } from "./state.ts";

const state = new ProxyState({
  workloads: [],
  services: [
    testService("hello", "demo", { vips: [{ network: "", address: "10.96.0.10" }, { network: "", address: "fd00::10" }] }),
    testService("ext", "demo", { hostname: "api.example.com", vips: [{ network: "", address: "10.96.0.30" }] }),
    testService("novip", "demo", { vips: [] }),
  ],
  policies: [],
});

function ask(name: string, type: number, canForward = true) {
  const q = parseQuery(encodeQuery(7, name, type));
  if (q.kind !== "query") throw new Error("fixture");
  return answerQuery(state, q.query, "cluster.local", canForward);
}

describe("answerQuery", () => {
  test.each([
    ["a service's A record", "hello.demo.svc.cluster.local", DnsType.A, DnsRcode.noError, ["10.96.0.10"]],
    ["any case, trailing dot", "HELLO.demo.svc.cluster.local.", DnsType.A, DnsRcode.noError, ["10.96.0.10"]],
    ["its AAAA record", "hello.demo.svc.cluster.local", DnsType.AAAA, DnsRcode.noError, ["fd00:0:0:0:0:0:0:10"]],
    ["ANY: both families", "hello.demo.svc.cluster.local", DnsType.ANY, DnsRcode.noError, ["10.96.0.10", "fd00:0:0:0:0:0:0:10"]],
    ["a ServiceEntry-style host", "api.example.com", DnsType.A, DnsRcode.noError, ["10.96.0.30"]],
    ["MX for a service: NODATA", "hello.demo.svc.cluster.local", 15, DnsRcode.noError, []],
    ["a service with no VIP: NODATA", "novip.demo.svc.cluster.local", DnsType.A, DnsRcode.noError, []],
    ["an unknown cluster service: NXDOMAIN", "nope.demo.svc.cluster.local", DnsType.A, DnsRcode.nxDomain, []],
  ])("%s", (_, name, type, rcode, addresses) => {
    const d = ask(name, type);
    expect(d.kind).toBe("answer");
    if (d.kind !== "answer") return;
    expect(d.response.rcode).toBe(rcode);
    expect(d.response.authoritative).toBe(true);
    const shown = d.response.answers.map((a) => (a.data.length === 4 ? [...a.data].join(".") : Array.from({ length: 8 }, (_, i) => ((a.data[i * 2]! << 8) | a.data[i * 2 + 1]!).toString(16)).join(":")));
    expect(shown).toEqual(addresses);
  });

  test.each([
    ["short forms are not answered (they would shadow real domains)", "hello.demo", true, "forward"],
    ["an outside name is forwarded", "example.org", true, "forward"],
    ["and refused without an upstream", "example.org", false, DnsRcode.refused],
  ])("%s", (_, name, canForward, want) => {
    const d = ask(name, DnsType.A, canForward);
    if (want === "forward") expect(d.kind).toBe("forward");
    else expect(d).toMatchObject({ kind: "answer", response: { rcode: want, authoritative: false } });
  });
});
