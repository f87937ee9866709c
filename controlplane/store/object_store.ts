// The embedded store: every applied object, persisted under the state directory
// so nothing applied is lost across restarts or kill -9. An apply is one atomic
// write of the whole set (docs/controlplane.md says why that is enough here).
// Record collections live beside it, one file each (file_records.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import { type KubeObject, objectKey } from "../../config/objects.ts";
import { auditEntry, findObject, planApply, planDelete } from "./_apply_plan.ts";
import { ObjectView } from "./_object_view.ts";
import type { ConfigStore, ObjectChange, ObjectRef, RecordCollection } from "./config_store.ts";
import { appendLineDurably, writeFileDurably } from "./durable_file.ts";
import { FileRecords } from "./file_records.ts";

export type { ObjectChange } from "./config_store.ts";

interface StoreFile {
  readonly revision: number;
  readonly objects: KubeObject[];
}

/** Persisted objects with resourceVersion and generation, and an audit trail of who changed what. */
export class ObjectStore extends ObjectView implements ConfigStore {
  readonly #records = new Map<string, FileRecords<unknown>>();
  #revision = 0;

  private constructor(readonly dir: string, private readonly recordsDir: string) {
    super();
  }

  /** Opens (or creates) the store in `dir`; record collections go to `recordsDir` (default `dir`). */
  static open(dir: string, recordsDir = dir): ObjectStore {
    const store = new ObjectStore(dir, recordsDir);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "objects.json");
    if (fs.existsSync(file)) {
      const data = JSON.parse(fs.readFileSync(file, "utf8")) as StoreFile;
      store.#revision = data.revision;
      for (const o of data.objects) store.objects.set(objectKey(o), o);
    }
    return store;
  }

  get description(): string {
    return `file:${this.dir}`;
  }

  get revision(): number {
    return this.#revision;
  }

  apply(objects: readonly KubeObject[], who: string, options: { dryRun?: boolean } = {}): Promise<ObjectChange[]> {
    try {
      const { writes, changes } = planApply(this.objects, objects);
      if (options.dryRun || writes.size === 0) return Promise.resolve(changes);
      const next = new Map(this.objects);
      let revision = this.#revision;
      for (const [key, { object }] of writes) next.set(key, { ...object, metadata: { ...object.metadata, resourceVersion: String(++revision) } });
      this.#commit(next, revision, who, "apply", changes);
      return Promise.resolve(changes);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  delete(refs: readonly ObjectRef[], who: string, options: { dryRun?: boolean } = {}): Promise<ObjectChange[]> {
    try {
      const { deletes, changes } = planDelete(this.objects, refs);
      if (options.dryRun || deletes.size === 0) return Promise.resolve(changes);
      const next = new Map(this.objects);
      for (const key of deletes.keys()) next.delete(key);
      this.#commit(next, this.#revision + deletes.size, who, "delete", changes);
      return Promise.resolve(changes);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  #commit(next: Map<string, KubeObject>, revision: number, who: string, verb: string, changes: ObjectChange[]): void {
    const file: StoreFile = { revision, objects: [...next.values()] };
    // Persist first: if this throws, memory still holds the last durable state.
    writeFileDurably(path.join(this.dir, "objects.json"), JSON.stringify(file));
    appendLineDurably(path.join(this.dir, "audit.log"), JSON.stringify(auditEntry(who, verb, revision, changes)));
    this.objects.clear();
    for (const [k, v] of next) this.objects.set(k, v);
    this.#revision = revision;
    this.notify();
  }

  audit(limit = 100): Promise<unknown[]> {
    const file = path.join(this.dir, "audit.log");
    if (!fs.existsSync(file)) return Promise.resolve([]);
    return Promise.resolve(fs.readFileSync(file, "utf8").trim().split("\n").filter(Boolean).slice(-limit).map((l) => JSON.parse(l)));
  }

  records<T>(name: string): RecordCollection<T> {
    let r = this.#records.get(name);
    if (!r) this.#records.set(name, r = new FileRecords<unknown>(this.recordsDir, name));
    return r as RecordCollection<T>;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
