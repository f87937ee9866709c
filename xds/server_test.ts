// The xDS server's stream bookkeeping as an attacker pokes at it: a client-chosen
// node.id, streams that never ACK, and revocation closing a node's streams.
import { expect, test } from "bun:test";
import { TYPE_URLS, type TypeUrl, type XdsResource } from "./protocol.ts";
import { DeltaXdsServer } from "./server.ts";

const W = TYPE_URLS.workload;
const server = (keepaliveMs = 0) => new DeltaXdsServer({ resourcesFor: () => new Map<TypeUrl, Map<string, XdsResource>>([[W, new Map()]]), debounceMs: 1, keepaliveMs });
const open = (s: DeltaXdsServer, id: string, nodeName: string) => {
  const opened = s.open({ node: { id, nodeName }, subscriptions: { [W]: {} } });
  const reader = opened.body.getReader();
  return { ...opened, reader };
};

test("a client-chosen node.id never evicts another node's stream", () => {
  const s = server();
  const a = open(s, "ztunnel~shared", "node-a");
  open(s, "ztunnel~shared", "node-b");
  const status = s.status();
  expect(status.map((x) => [x.node.nodeName, x.connected])).toEqual([["node-a", true], ["node-b", true]]);
  expect(s.nodeOf(a.streamId)?.nodeName).toBe("node-a");
  s.close();
});

test("the same proxy reopening ends its old stream; ended streams of a node are replaced, not accumulated", async () => {
  const s = server();
  const first = open(s, "ztunnel~1", "node-a");
  await first.reader.read();
  open(s, "ztunnel~1", "node-a");
  expect((await first.reader.read()).done).toBe(true);
  for (let i = 2; i < 50; i++) open(s, `ztunnel~${i}`, "node-a");
  expect(s.status().filter((x) => x.node.nodeName === "node-a").length).toBeLessThanOrEqual(49);
  expect(s.status().filter((x) => x.connected).length).toBe(49);
  s.close();
  open(s, "ztunnel~last", "node-a");
  expect(s.status().length).toBe(1);
  s.close();
});

test("closeNode ends every open stream of that node, and only of that node", async () => {
  const s = server();
  const a1 = open(s, "a1", "node-a");
  const a2 = open(s, "a2", "node-a");
  const b = open(s, "b", "node-b");
  for (const x of [a1, a2, b]) await x.reader.read();
  expect(s.closeNode("node-a")).toBe(2);
  expect((await a1.reader.read()).done).toBe(true);
  expect((await a2.reader.read()).done).toBe(true);
  expect(s.status().find((x) => x.node.nodeName === "node-b")?.connected).toBe(true);
  expect(s.closeNode("node-a")).toBe(0);
  s.close();
});

test("a node that never ACKs does not grow the pending nonces without bound", async () => {
  let n = 0;
  const desired = () => new Map<TypeUrl, Map<string, XdsResource>>([[W, new Map([["w", { name: "w", version: String(n), resource: {} }]])]]);
  const s = new DeltaXdsServer({ resourcesFor: desired, debounceMs: 0, keepaliveMs: 0 });
  open(s, "p", "node-a");
  for (let i = 0; i < 200; i++) {
    n++;
    s.notifyChanged();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 0));
  }
  expect(s.status()[0]!.types[0]!.pendingNonces).toBeLessThanOrEqual(64);
  s.close();
});

test("an idle stream carries a keepalive line", async () => {
  const s = server(20);
  const a = open(s, "k", "node-a");
  await a.reader.read();
  const line = new TextDecoder().decode((await a.reader.read()).value);
  expect(line).toBe("\n");
  s.close();
});
