import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { KubeObject } from "../../config/objects.ts";
import { StoreConflictError } from "./config_store.ts";
import { ObjectStore } from "./object_store.ts";

const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), "ambit-store-"));
const sa = (name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: "default", labels } });
const svc = (port: number): KubeObject => ({ apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default" }, spec: { ports: [{ port }] } });

test("apply reports created, unchanged and configured like kubectl", async () => {
  const store = ObjectStore.open(dir());
  expect((await store.apply([sa("a"), sa("b")], "t")).map((c) => c.verb)).toEqual(["created", "created"]);
  expect((await store.apply([sa("a"), sa("b", { x: "1" })], "t")).map((c) => c.verb)).toEqual(["unchanged", "configured"]);
});

test("resourceVersion follows every write; generation only spec changes", async () => {
  const store = ObjectStore.open(dir());
  await store.apply([svc(80)], "t");
  const first = store.get("Service", "default", "web")!.metadata;
  await store.apply([{ ...svc(80), metadata: { ...svc(80).metadata, labels: { a: "b" } } }], "t");
  const relabelled = store.get("Service", "default", "web")!.metadata;
  await store.apply([svc(8080)], "t");
  const respecced = store.get("Service", "default", "web")!.metadata;
  expect(Number(relabelled.resourceVersion)).toBeGreaterThan(Number(first.resourceVersion));
  expect(relabelled.generation).toBe(first.generation);
  expect(respecced.generation).toBe(first.generation! + 1);
  expect(respecced.uid).toBe(first.uid);
  expect(respecced.creationTimestamp).toBe(first.creationTimestamp);
});

test("what was applied survives reopening, with the audit trail naming who", async () => {
  const d = dir();
  const store = ObjectStore.open(d);
  await store.apply([sa("a"), svc(80)], "admin-token");
  await store.delete([{ kind: "ServiceAccount", metadata: { name: "a", namespace: "default" } }], "dev@127.0.0.1");
  const again = ObjectStore.open(d);
  expect(again.list().map((o) => o.kind)).toEqual(["Service"]);
  expect(again.revision).toBe(store.revision);
  expect((await again.audit()).map((e) => (e as { who: string }).who)).toEqual(["admin-token", "dev@127.0.0.1"]);
});

test("a dry run changes nothing and writes nothing", async () => {
  const d = dir();
  const store = ObjectStore.open(d);
  expect((await store.apply([sa("a")], "t", { dryRun: true }))[0]!.verb).toBe("created");
  expect(store.list()).toEqual([]);
  expect(fs.existsSync(path.join(d, "objects.json"))).toBe(false);
});

test("a failed write leaves memory at the last durable state", async () => {
  const d = dir();
  const store = ObjectStore.open(d);
  await store.apply([sa("a")], "t");
  // A non-empty directory where the file must be renamed to: the write fails, even for root.
  fs.rmSync(path.join(d, "objects.json"));
  fs.mkdirSync(path.join(d, "objects.json", "blocker"), { recursive: true });
  await expect(store.apply([sa("b")], "t")).rejects.toThrow();
  expect(store.list().map((o) => o.metadata.name)).toEqual(["a"]);
  expect(store.get("ServiceAccount", "default", "b")).toBeUndefined();
});

test("Istio's Gateway and the Gateway API's Gateway with one name are two objects", async () => {
  const store = ObjectStore.open(dir());
  const g = (apiVersion: string): KubeObject => ({ apiVersion, kind: "Gateway", metadata: { name: "gw", namespace: "default" }, spec: {} });
  await store.apply([g("networking.istio.io/v1"), g("gateway.networking.k8s.io/v1")], "t");
  expect(store.list().length).toBe(2);
  expect((await store.delete([g("networking.istio.io/v1")], "t"))[0]!.verb).toBe("deleted");
  expect(store.list()[0]!.apiVersion).toBe("gateway.networking.k8s.io/v1");
});

test("listeners hear each change", async () => {
  const store = ObjectStore.open(dir());
  let heard = 0;
  store.onChange(() => heard++);
  await store.apply([sa("a")], "t");
  await store.apply([sa("a")], "t");
  await store.delete([{ kind: "ServiceAccount", metadata: { name: "missing", namespace: "default" } }], "t");
  expect(heard).toBe(1);
});

test("an object naming a stale resourceVersion is refused (409), and nothing of that apply is written", async () => {
  const store = ObjectStore.open(dir());
  await store.apply([svc(80)], "t");
  const rv = store.get("Service", "default", "web")!.metadata.resourceVersion!;
  await store.apply([svc(81)], "t");
  const stale = { ...svc(82), metadata: { ...svc(82).metadata, resourceVersion: rv } };
  await expect(store.apply([sa("x"), stale], "t")).rejects.toThrow(StoreConflictError);
  expect(store.get("ServiceAccount", "default", "x")).toBeUndefined();
  const current = store.get("Service", "default", "web")!;
  expect((await store.apply([{ ...svc(83), metadata: { ...svc(83).metadata, resourceVersion: current.metadata.resourceVersion } }], "t"))[0]!.verb).toBe("configured");
});

test("record collections persist beside the objects, with create-if-absent", async () => {
  const d = dir();
  const store = ObjectStore.open(path.join(d, "store"), d);
  const vips = store.records<string>("vips");
  expect(await vips.put("default/a", "240.240.0.1", { ifAbsent: true })).toBe(true);
  expect(await vips.put("default/a", "240.240.0.2", { ifAbsent: true })).toBe(false);
  expect(ObjectStore.open(path.join(d, "store"), d).records<string>("vips").get("default/a")).toBe("240.240.0.1");
  // The node registry's older file (an array of records) reads keyed by name.
  fs.writeFileSync(path.join(d, "nodes.json"), JSON.stringify([{ name: "node-a", createdAt: "x" }]));
  expect(ObjectStore.open(path.join(d, "store"), d).records<{ createdAt: string }>("nodes").get("node-a")?.createdAt).toBe("x");
});
