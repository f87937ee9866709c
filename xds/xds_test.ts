// The delta-xDS protocol end to end in one process: a DeltaXdsServer behind the
// real HTTP/2 routes on loopback, and a DeltaXdsClient talking to it.
import { afterEach, expect, test } from "bun:test";
import { serveHttp2, type Http2Listener } from "../runtime/mod.ts";
import { DeltaXdsClient } from "./client.ts";
import { xdsRoutes } from "./http_routes.ts";
import { resourceVersion, TYPE_URLS, type TypeUrl, type XdsResource } from "./protocol.ts";
import { DeltaXdsServer } from "./server.ts";

const W = TYPE_URLS.workload;
const S = TYPE_URLS.service;
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A controlplane stand-in whose desired state the test edits. */
async function controlplane(port = 0) {
  const desired = new Map<TypeUrl, Map<string, XdsResource>>([[W, new Map()], [S, new Map()]]);
  const set = (type: TypeUrl, name: string, resource: unknown) => desired.get(type)!.set(name, { name, version: resourceVersion(resource), resource });
  const server = new DeltaXdsServer({ resourcesFor: () => desired, debounceMs: 5 });
  const listener: Http2Listener = await serveHttp2({ hostname: "127.0.0.1", port, fetch: xdsRoutes(server, () => undefined).fetch });
  cleanup.push(() => listener.close(), () => server.close());
  return { desired, set, server, listener };
}

function client(port: number, reject: (name: string) => boolean = () => false) {
  const applied = new Map<string, unknown>();
  const c = new DeltaXdsClient({
    url: `http://127.0.0.1:${port}`,
    node: { id: "ztunnel-node-a", nodeName: "node-a" },
    types: [W, S],
    apply: (_t, resources, removed) => {
      const failed = resources.filter((r) => reject(r.name)).map((r) => ({ name: r.name, message: "cannot apply" }));
      for (const r of resources) if (!reject(r.name)) applied.set(r.name, r.resource);
      for (const n of removed) applied.delete(n);
      return { failed };
    },
    backoff: { baseMs: 20, maxMs: 100, random: () => 0.5 },
  });
  void c.run();
  cleanup.push(() => c.stop());
  return { c, applied };
}

async function until(cond: () => boolean, what: string, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("first response of every type arrives even when empty; wildcard delivers everything", async () => {
  const cp = await controlplane();
  cp.set(W, "w1", { a: 1 });
  const { c, applied } = client(cp.listener.port);
  await until(() => c.synced, "sync");
  expect([...applied.keys()]).toEqual(["w1"]);
  expect(c.received.map((r) => r.typeUrl).sort()).toEqual([S, W]);
});

test("after the initial sync a change is a delta carrying only that resource; removals are by name", async () => {
  const cp = await controlplane();
  for (let i = 0; i < 5; i++) cp.set(W, `w${i}`, { i });
  const { c, applied } = client(cp.listener.port);
  await until(() => applied.size === 5, "initial sync");
  const before = c.received.length;
  cp.set(W, "w3", { i: 3, changed: true });
  cp.desired.get(W)!.delete("w4");
  cp.server.notifyChanged();
  await until(() => c.received.length > before, "delta");
  const delta = c.received.slice(before);
  expect(delta.length).toBe(1);
  expect(delta[0]!.resources.map((r) => r.name)).toEqual(["w3"]);
  expect(delta[0]!.removedResources).toEqual(["w4"]);
  expect(applied.has("w4")).toBe(false);
});

test("a partly bad response: good resources applied, the NACK names the bad one, visible in status, not resent until it changes", async () => {
  const cp = await controlplane();
  cp.set(W, "good", { ok: 1 });
  cp.set(W, "bad", { ok: 0 });
  const { c, applied } = client(cp.listener.port, (n) => n === "bad");
  await until(() => cp.server.status()[0]?.types.find((t) => t.typeUrl === W)?.lastNack !== undefined, "NACK");
  expect(applied.has("good")).toBe(true);
  expect(applied.has("bad")).toBe(false);
  const w = cp.server.status()[0]!.types.find((t) => t.typeUrl === W)!;
  expect(w.lastNack!.failedResources).toEqual(["bad"]);
  expect(w.lastNack!.message).toContain("bad: cannot apply");
  const before = c.received.length;
  cp.set(W, "other", { x: 1 });
  cp.server.notifyChanged();
  await until(() => applied.has("other"), "next push");
  expect(c.received.slice(before).flatMap((r) => r.resources.map((x) => x.name))).toEqual(["other"]);
});

test("resume after a controlplane restart: only what changed while away is sent, and removals for what went away", async () => {
  const cp = await controlplane();
  for (let i = 0; i < 10; i++) cp.set(W, `w${i}`, { i });
  cp.set(S, "s1", { s: 1 });
  const { c, applied } = client(cp.listener.port);
  await until(() => applied.size === 11, "initial sync");
  const port = cp.listener.port;
  await cp.listener.close();
  cp.server.close();
  // A new controlplane process with the same config, one change and one removal.
  const next = await controlplane(port);
  for (let i = 0; i < 10; i++) next.set(W, `w${i}`, { i });
  next.set(S, "s1", { s: 1 });
  next.set(W, "w0", { i: 0, changed: true });
  next.desired.get(W)!.delete("w9");
  const before = c.received.length;
  await until(() => next.server.status().some((s) => s.connected) && !applied.has("w9"), "resume");
  const after = c.received.slice(before);
  expect(after.flatMap((r) => r.resources.map((x) => x.name))).toEqual(["w0"]);
  expect(after.flatMap((r) => r.removedResources)).toEqual(["w9"]);
  expect(c.stats().streams).toBe(2);
});

test("pushes are debounced: a burst of changes becomes one response", async () => {
  const cp = await controlplane();
  const { c, applied } = client(cp.listener.port);
  await until(() => c.synced, "sync");
  const before = c.received.length;
  for (let i = 0; i < 20; i++) {
    cp.set(W, `burst${i}`, { i });
    cp.server.notifyChanged();
  }
  await until(() => applied.size === 20, "burst");
  expect(c.received.length - before).toBe(1);
});
