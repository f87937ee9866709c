import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { KubeObject } from "../../config/objects.ts";
import { ObjectStore } from "./object_store.ts";

const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), "ambit-store-"));
const sa = (name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: "default", labels } });
const svc = (port: number): KubeObject => ({ apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default" }, spec: { ports: [{ port }] } });

test("apply reports created, unchanged and configured like kubectl", () => {
  const store = ObjectStore.open(dir());
  expect(store.apply([sa("a"), sa("b")], "t").map((c) => c.verb)).toEqual(["created", "created"]);
  expect(store.apply([sa("a"), sa("b", { x: "1" })], "t").map((c) => c.verb)).toEqual(["unchanged", "configured"]);
});

test("resourceVersion follows every write; generation only spec changes", () => {
  const store = ObjectStore.open(dir());
  store.apply([svc(80)], "t");
  const first = store.get("Service", "default", "web")!.metadata;
  store.apply([{ ...svc(80), metadata: { ...svc(80).metadata, labels: { a: "b" } } }], "t");
  const relabelled = store.get("Service", "default", "web")!.metadata;
  store.apply([svc(8080)], "t");
  const respecced = store.get("Service", "default", "web")!.metadata;
  expect(Number(relabelled.resourceVersion)).toBeGreaterThan(Number(first.resourceVersion));
  expect(relabelled.generation).toBe(first.generation);
  expect(respecced.generation).toBe(first.generation! + 1);
  expect(respecced.uid).toBe(first.uid);
  expect(respecced.creationTimestamp).toBe(first.creationTimestamp);
});

test("what was applied survives reopening, with the audit trail naming who", () => {
  const d = dir();
  const store = ObjectStore.open(d);
  store.apply([sa("a"), svc(80)], "admin-token");
  store.delete([{ kind: "ServiceAccount", metadata: { name: "a", namespace: "default" } }], "dev@127.0.0.1");
  const again = ObjectStore.open(d);
  expect(again.list().map((o) => o.kind)).toEqual(["Service"]);
  expect(again.revision).toBe(store.revision);
  expect(again.audit().map((e) => (e as { who: string }).who)).toEqual(["admin-token", "dev@127.0.0.1"]);
});

test("a dry run changes nothing and writes nothing", () => {
  const d = dir();
  const store = ObjectStore.open(d);
  expect(store.apply([sa("a")], "t", { dryRun: true })[0]!.verb).toBe("created");
  expect(store.list()).toEqual([]);
  expect(fs.existsSync(path.join(d, "objects.json"))).toBe(false);
});

test("a failed write leaves memory at the last durable state", () => {
  const d = dir();
  const store = ObjectStore.open(d);
  store.apply([sa("a")], "t");
  // A non-empty directory where the file must be renamed to: the write fails, even for root.
  fs.rmSync(path.join(d, "objects.json"));
  fs.mkdirSync(path.join(d, "objects.json", "blocker"), { recursive: true });
  expect(() => store.apply([sa("b")], "t")).toThrow();
  expect(store.list().map((o) => o.metadata.name)).toEqual(["a"]);
  expect(store.get("ServiceAccount", "default", "b")).toBeUndefined();
});

test("Istio's Gateway and the Gateway API's Gateway with one name are two objects", () => {
  const store = ObjectStore.open(dir());
  const g = (apiVersion: string): KubeObject => ({ apiVersion, kind: "Gateway", metadata: { name: "gw", namespace: "default" }, spec: {} });
  store.apply([g("networking.istio.io/v1"), g("gateway.networking.k8s.io/v1")], "t");
  expect(store.list().length).toBe(2);
  expect(store.delete([g("networking.istio.io/v1")], "t")[0]!.verb).toBe("deleted");
  expect(store.list()[0]!.apiVersion).toBe("gateway.networking.k8s.io/v1");
});

test("listeners hear each change", () => {
  const store = ObjectStore.open(dir());
  let heard = 0;
  store.onChange(() => heard++);
  store.apply([sa("a")], "t");
  store.apply([sa("a")], "t");
  store.delete([{ kind: "ServiceAccount", metadata: { name: "missing", namespace: "default" } }], "t");
  expect(heard).toBe(1);
});
