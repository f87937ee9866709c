// The etcd store against a real etcd 3.4 (Debian etcd-server) on loopback: two
// store instances stand for two controlplane replicas on one etcd.
import { afterAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import type { KubeObject } from "../../config/objects.ts";
import { etcdInstalled, startEtcd, type TestEtcd } from "../../testing/etcd.ts";
import { until } from "../../testing/until.ts";
import { StoreConflictError } from "./config_store.ts";
import { EtcdStore, parseEtcdUrl } from "./etcd_store.ts";

const svc = (port: number, rv?: string): KubeObject => ({
  apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default", ...(rv ? { resourceVersion: rv } : {}) }, spec: { ports: [{ port }] },
});
const sa = (name: string): KubeObject => ({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: "default" } });

test("etcd URLs: hosts and a key prefix", () => {
  expect(parseEtcdUrl("etcd://127.0.0.1:2379,127.0.0.2:2379")).toEqual({ hosts: ["http://127.0.0.1:2379", "http://127.0.0.2:2379"], prefix: "/ambit/" });
  expect(parseEtcdUrl("etcd://10.0.0.1:2379/prod/mesh/").prefix).toBe("/prod/mesh/");
});

let etcd: TestEtcd | undefined;
afterAll(() => etcd?.kill());

test.skipIf(!etcdInstalled())("two replicas: a write through one is seen by the other; stale resourceVersions get 409; concurrent writes lose nothing", async () => {
  etcd = await startEtcd();
  const [a, b] = await Promise.all([EtcdStore.open(`${etcd.url}/t1`), EtcdStore.open(`${etcd.url}/t1`)]);
  try {
    const heard = new Promise<void>((resolve) => b.onChange(() => b.get("Service", "default", "web") && resolve()));
    expect((await a.apply([svc(80)], "t"))[0]!.verb).toBe("created");
    await heard;
    const rv = b.get("Service", "default", "web")!.metadata.resourceVersion!;
    expect(a.get("Service", "default", "web")!.metadata.resourceVersion).toBe(rv);

    // Ten writers name the same version at once: one wins, nine get 409.
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).apply([svc(1000 + i, rv)], "t")));
    expect(results.filter((r) => r.status === "fulfilled").length).toBe(1);
    expect(results.filter((r) => r.status === "rejected").every((r) => (r as PromiseRejectedResult).reason instanceof StoreConflictError)).toBe(true);

    // Ten writers without a version change one object at once: each lands (generation counts them all).
    const before = a.get("Service", "default", "web")!.metadata.generation!;
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).apply([svc(2000 + i)], "t")));
    // A write resolves once its own replica's view shows it; the other replica's view follows through the watch.
    await until("a's view has b's writes", async () => a.revision >= b.revision);
    expect(a.get("Service", "default", "web")!.metadata.generation).toBe(before + 10);
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).apply([sa(`sa-${i}`)], "t")));
    await until("a's view has b's writes", async () => a.revision >= b.revision);
    expect(a.list({ kind: "ServiceAccount" }).length).toBe(10);

    expect((await b.delete([{ kind: "ServiceAccount", metadata: { name: "sa-3", namespace: "default" } }], "t"))[0]!.verb).toBe("deleted");
    expect(b.get("ServiceAccount", "default", "sa-3")).toBeUndefined();
    expect((await a.audit(3)).length).toBe(3);

    const ra = a.records<string>("vips");
    const rb = b.records<string>("vips");
    const claims = await Promise.all([ra.put("default/x", "240.240.0.1", { ifAbsent: true }), rb.put("default/x", "240.240.0.2", { ifAbsent: true })]);
    expect(claims.filter(Boolean).length).toBe(1);
    expect(ra.get("default/x")).toBe(rb.get("default/x")!);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}, 30_000);

test.skipIf(!etcdInstalled())("over TLS: with etcd's CA and a client certificate the store works; without the certificate etcd refuses it", async () => {
  const secure = await startEtcd({ tls: true });
  try {
    const pem = (f: string) => fs.readFileSync(f, "utf8");
    // By name: Bun's TLS refuses the IP address gRPC would send as the server name.
    const serverName = "etcd.test";
    const store = await EtcdStore.open(secure.url, { caPem: pem(secure.tls!.ca), certPem: pem(secure.tls!.cert), keyPem: pem(secure.tls!.key), serverName });
    expect((await store.apply([sa("over-tls")], "t"))[0]!.verb).toBe("created");
    await store.close();
    await expect(EtcdStore.open(secure.url, { caPem: pem(secure.tls!.ca), serverName })).rejects.toThrow(/cannot read etcd/);
  } finally {
    await secure.kill();
  }
}, 30_000);
