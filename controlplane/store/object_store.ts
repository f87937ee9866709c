// The embedded store: every applied object, persisted under the state directory
// so nothing applied is lost across restarts or kill -9. An apply is one atomic
// write of the whole set (docs/controlplane.md says why that is enough here).
import * as fs from "node:fs";
import * as path from "node:path";
import { canonicalJson } from "../../xds/protocol.ts";
import { describeObject, type KubeObject, objectKey } from "../../config/objects.ts";
import { appendLineDurably, writeFileDurably } from "./durable_file.ts";

/** What an apply or delete did to one object, kubectl-style. */
export interface ObjectChange {
  readonly object: string;
  readonly verb: "created" | "configured" | "unchanged" | "deleted" | "not found";
}

interface StoreFile {
  readonly revision: number;
  readonly objects: KubeObject[];
}

/** Persisted objects with resourceVersion and generation, and an audit trail of who changed what. */
export class ObjectStore {
  readonly #objects = new Map<string, KubeObject>();
  readonly #listeners = new Set<() => void>();
  #revision = 0;

  private constructor(readonly dir: string) {}

  /** Opens (or creates) the store in `dir`. */
  static open(dir: string): ObjectStore {
    const store = new ObjectStore(dir);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "objects.json");
    if (fs.existsSync(file)) {
      const data = JSON.parse(fs.readFileSync(file, "utf8")) as StoreFile;
      store.#revision = data.revision;
      for (const o of data.objects) store.#objects.set(objectKey(o), o);
    }
    return store;
  }

  /** The store's revision: bumped by every change. */
  get revision(): number {
    return this.#revision;
  }

  /** Objects, optionally of one kind and namespace. */
  list(filter: { kind?: string; namespace?: string } = {}): KubeObject[] {
    return [...this.#objects.values()].filter((o) =>
      (!filter.kind || o.kind === filter.kind) && (!filter.namespace || o.metadata.namespace === filter.namespace)
    );
  }

  /** An object by kind (`Gateway` or `Gateway.gateway.networking.k8s.io`), namespace and name. */
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.#find(this.#objects, { kind, metadata: { name, namespace } });
  }

  #find(objects: Map<string, KubeObject>, ref: { apiVersion?: string; kind: string; metadata: { name: string; namespace?: string } }): KubeObject | undefined {
    if (ref.apiVersion) return objects.get(objectKey(ref));
    for (const o of objects.values()) {
      const qualified = objectKey(o).split("/")[0];
      if ((o.kind === ref.kind || qualified === ref.kind) && o.metadata.name === ref.metadata.name && (o.metadata.namespace ?? "") === (ref.metadata.namespace ?? "")) return o;
    }
    return undefined;
  }

  /** Calls `listener` after every change. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Creates or updates objects, all or nothing: it is persisted before it
   * returns, and recorded in the audit log with `who`.
   */
  apply(objects: readonly KubeObject[], who: string, options: { dryRun?: boolean } = {}): ObjectChange[] {
    const next = new Map(this.#objects);
    let revision = this.#revision;
    const changes: ObjectChange[] = [];
    const now = new Date().toISOString();
    for (const o of objects) {
      const key = objectKey(o);
      const prior = next.get(key);
      const incoming = strip(o);
      if (prior && canonicalJson(strip(prior)) === canonicalJson(incoming)) {
        changes.push({ object: describeObject(o), verb: "unchanged" });
        continue;
      }
      revision++;
      const specChanged = !prior || canonicalJson(prior.spec) !== canonicalJson(o.spec);
      next.set(key, {
        ...incoming,
        metadata: {
          ...incoming.metadata,
          uid: prior?.metadata.uid ?? crypto.randomUUID(),
          creationTimestamp: prior?.metadata.creationTimestamp ?? now,
          resourceVersion: String(revision),
          generation: (prior?.metadata.generation ?? 0) + (specChanged ? 1 : 0) || 1,
        },
      });
      changes.push({ object: describeObject(o), verb: prior ? "configured" : "created" });
    }
    if (!options.dryRun) this.#commit(next, revision, who, "apply", changes);
    return changes;
  }

  /** Deletes objects by kind, namespace and name, all or nothing. */
  delete(refs: readonly { apiVersion?: string; kind: string; metadata: { name: string; namespace?: string } }[], who: string, options: { dryRun?: boolean } = {}): ObjectChange[] {
    const next = new Map(this.#objects);
    let revision = this.#revision;
    const changes: ObjectChange[] = refs.map((r) => {
      const found = this.#find(next, r);
      const deleted = found !== undefined && next.delete(objectKey(found));
      if (deleted) revision++;
      return { object: describeObject(found ?? r), verb: deleted ? "deleted" : "not found" };
    });
    if (!options.dryRun && revision !== this.#revision) this.#commit(next, revision, who, "delete", changes);
    return changes;
  }

  #commit(next: Map<string, KubeObject>, revision: number, who: string, verb: string, changes: ObjectChange[]): void {
    if (revision === this.#revision) return;
    const file: StoreFile = { revision, objects: [...next.values()] };
    // Persist first: if this throws, memory still holds the last durable state.
    writeFileDurably(path.join(this.dir, "objects.json"), JSON.stringify(file));
    appendLineDurably(path.join(this.dir, "audit.log"), JSON.stringify({
      time: new Date().toISOString(),
      who,
      verb,
      revision,
      changes: changes.filter((c) => c.verb !== "unchanged" && c.verb !== "not found"),
    }));
    this.#objects.clear();
    for (const [k, v] of next) this.#objects.set(k, v);
    this.#revision = revision;
    for (const l of this.#listeners) l();
  }

  /** The audit trail, newest last. */
  audit(limit = 100): unknown[] {
    const file = path.join(this.dir, "audit.log");
    if (!fs.existsSync(file)) return [];
    return fs.readFileSync(file, "utf8").trim().split("\n").filter(Boolean).slice(-limit).map((l) => JSON.parse(l));
  }
}

/** An object as the user owns it: server-set metadata and status removed. */
function strip(o: KubeObject): KubeObject {
  const { resourceVersion: _rv, generation: _g, uid: _u, creationTimestamp: _c, ...metadata } = o.metadata;
  return { apiVersion: o.apiVersion, kind: o.kind, metadata, ...(o.spec !== undefined ? { spec: o.spec } : {}), ...(o.kind === "Pod" && o.status !== undefined ? { status: o.status } : {}) };
}
