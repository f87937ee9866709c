// Table tests for the capture rules: what each input renders, and every refusal.
import { describe, expect, test } from "bun:test";
import { type CapturedWorkload, ownerCaptureAddress, renderCaptureRules, renderHeartbeat, renderUninstall } from "./nftables.ts";

const client: CapturedWorkload = { name: "demo/client", addresses: ["10.77.1.1"], capture: { mode: "owner", uid: 2001 } };
const hello: CapturedWorkload = { name: "demo/hello", addresses: ["10.77.2.1", "fd00::1"], capture: { mode: "owner", uid: 2002 } };

function lines(input: Parameters<typeof renderCaptureRules>[0]): string[] {
  const r = renderCaptureRules(input);
  if (!r.ok) throw new Error(r.problems.join("; "));
  return r.ruleset.split("\n").map((l) => l.trim());
}

describe("renderCaptureRules", () => {
  test("replaces the table atomically: create, delete, define", () => {
    expect(lines({ workloads: [client] }).slice(1, 4)).toEqual(["table inet ambit", "delete table inet ambit", "table inet ambit {"]);
  });

  test.each([
    ["only captured owners' processes", [client, hello], {}, "meta skuid != { 2001, 2002 } return comment \"only captured workloads' processes\""],
    ["ztunnel's marked sockets first", [client], {}, "meta mark 0x00000539 return comment \"ztunnel's own sockets\""],
    ["outbound TCP to the owner's 15001 listener", [client], {}, "meta skuid 2001 meta nfproto ipv4 meta l4proto tcp dnat ip to 127.128.7.209:15001 comment \"outbound of demo/client to ztunnel\""],
    ["IPv6 outbound refused, not leaked", [client, hello], {}, "meta skuid { 2001, 2002 } meta nfproto ipv6 meta l4proto tcp ip6 daddr != ::1 reject with tcp reset comment \"IPv6 outbound is not captured\""],
    ["DNS over UDP to 15053", [client], {}, "udp dport 53 redirect to :15053 comment \"DNS to the proxy\""],
    ["DNS over TCP to 15053", [client], {}, "tcp dport 53 redirect to :15053"],
    ["loopback left alone", [client], {}, "ip daddr 127.0.0.0/8 return comment \"loopback stays in the workload\""],
    ["inbound plaintext to 15006 (not HBONE)", [client], {}, "ip daddr 10.77.1.1 tcp dport != 15008 dnat ip to 10.77.1.1:15006 comment \"inbound plaintext to demo/client\""],
    ["the network cannot reach a workload's SOCKS5", [client], {}, "iifname != \"lo\" ip daddr 10.77.1.1 tcp dport 15080 drop comment \"SOCKS5 of demo/client is for the host only\""],
    ["IPv6 inbound", [hello], {}, "ip6 daddr fd00::1 tcp dport != 15008 dnat ip6 to [fd00::1]:15006 comment \"inbound plaintext to demo/hello\""],
    ["other ports", [client], { ports: { outbound: 25001, socks: 25080, plaintext: 25006, hbone: 25008, dns: 25053 } }, "meta skuid 2001 meta nfproto ipv4 meta l4proto tcp dnat ip to 127.128.7.209:25001 comment \"outbound of demo/client to ztunnel\""],
    ["another table", [client], { table: "mesh2" }, "delete table inet mesh2"],
    ["fail open: redirects need the heartbeat", [client], { failMode: "open" as const }, "meta nfproto @ztunnel_alive meta skuid 2001 meta nfproto ipv4 meta l4proto tcp dnat ip to 127.128.7.209:15001 comment \"outbound of demo/client to ztunnel\""],
    ["fail open: the heartbeat set", [client], { failMode: "open" as const }, "set ztunnel_alive {"],
    ["fail open: born with a heartbeat (install found the ztunnel up)", [client], { failMode: "open" as const }, "elements = { ipv4 timeout 6s, ipv6 timeout 6s }"],
  ])("%s", (_, workloads, extra, want) => {
    expect(lines({ workloads, ...extra })).toContain(want);
  });

  test.each([
    ["no DNS capture when off", { workloads: [client], dns: false }, "udp dport 53 redirect to :15053 comment \"DNS to the proxy\""],
    ["fail closed has no heartbeat", { workloads: [client] }, "set ztunnel_alive {"],
    ["no workloads: no IPv6 refusal", { workloads: [] }, "chain output_filter {"],
  ])("%s", (_, input, absent) => {
    expect(lines(input)).not.toContain(absent);
  });

  test.each([
    ["the ztunnel's own uid", [client], { ztunnelUid: 2001 }, "Workload demo/client: capture.uid 2001 is the ztunnel's own uid; its traffic would loop"],
    ["a uid past 2^23", [{ ...client, capture: { mode: "owner" as const, uid: 2 ** 23 } }], {}, "Workload demo/client: capture.uid 8388608 is too large (owner capture serves uids below 8388608)"],
    ["root", [{ ...client, capture: { mode: "owner" as const, uid: 0 } }], {}, "Workload demo/client: capture.uid 0 must be a positive integer (not root)"],
    ["a uid two workloads claim", [client, { ...hello, capture: client.capture }], {}, "Workload demo/hello: capture.uid 2001 is already another workload's"],
    ["a bad address", [{ ...client, addresses: ["10.0.0.1; flush ruleset"] }], {}, "Workload demo/client: address \"10.0.0.1; flush ruleset\" is not an IP address"],
    ["namespace mode", [{ ...client, capture: { mode: "namespace" as const, netns: "pod-a" } }], {}, "Workload demo/client: capture mode \"namespace\" is designed but not served yet (docs/capture.md)"],
    ["a table name that is not a word", [client], { table: "x }; flush ruleset" }, "table name \"x }; flush ruleset\" must be a letter then letters, digits or _ (at most 32)"],
  ])("refuses %s", (_, workloads, extra, problem) => {
    const r = renderCaptureRules({ workloads, ...extra });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems).toContain(problem);
  });

  test("uninstall and heartbeat name the table", () => {
    expect(renderUninstall("ambit")).toBe("delete table inet ambit\n");
    expect(renderHeartbeat("ambit")).toBe("flush set inet ambit ztunnel_alive\nadd element inet ambit ztunnel_alive { ipv4 timeout 6s, ipv6 timeout 6s }\n");
  });
});

test.each([
  [1, "127.128.0.1"],
  [2001, "127.128.7.209"],
  [65536, "127.129.0.0"],
  [2 ** 23 - 1, "127.255.255.255"],
  [0, undefined],
  [2 ** 23, undefined],
  [1.5, undefined],
])("owner %p is sent to %p", (uid, want) => expect(ownerCaptureAddress(uid)).toBe(want));
