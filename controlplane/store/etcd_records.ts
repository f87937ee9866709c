// A record collection under one etcd prefix: the view is fed by the store's
// watch (etcd_store.ts); `ifAbsent` is a transaction on the key's create
// revision, so of two replicas creating one key exactly one wins, and `update`
// one on its mod revision, so of two replicas rewriting it exactly one wins.
import type { Etcd3 } from "etcd3";
import { type RecordCollection, StoreUnavailableError } from "./config_store.ts";

/** Compare-and-swap rounds an update tries before giving up on a record that keeps changing. */
const MAX_ATTEMPTS = 10;

/** Records under `prefix`, kept current by the owning store's watch. */
export class EtcdRecords<T> implements RecordCollection<T> {
  readonly #records = new Map<string, T>();
  readonly #listeners = new Set<() => void>();

  constructor(private readonly client: Etcd3, private readonly prefix: string, private readonly caughtUp: (revision: number) => Promise<void>) {}

  all(): ReadonlyMap<string, T> {
    return this.#records;
  }

  get(key: string): T | undefined {
    return this.#records.get(key);
  }

  async put(key: string, value: T, options: { ifAbsent?: boolean } = {}): Promise<boolean> {
    const put = this.client.put(this.prefix + key).value(JSON.stringify(value));
    if (!options.ifAbsent) {
      await this.caughtUp(Number((await put.exec()).header.revision));
      return true;
    }
    const result = await this.client.if(this.prefix + key, "Create", "==", 0).then(put).commit();
    await this.caughtUp(Number(result.header.revision));
    return result.succeeded;
  }

  async delete(key: string): Promise<void> {
    const res = await this.client.delete().key(this.prefix + key).exec();
    if (Number(res.deleted) > 0) await this.caughtUp(Number(res.header.revision));
  }

  async update(key: string, change: (current: T | undefined) => T | undefined): Promise<T | undefined> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const kv = (await this.client.get(this.prefix + key).exec()).kvs[0];
      const next = change(kv ? JSON.parse(kv.value.toString()) as T : undefined);
      if (next === undefined) return undefined;
      const result = await this.client.if(this.prefix + key, "Mod", "==", kv?.mod_revision ?? "0")
        .then(this.client.put(this.prefix + key).value(JSON.stringify(next))).commit();
      if (result.succeeded) {
        await this.caughtUp(Number(result.header.revision));
        return next;
      }
    }
    throw new StoreUnavailableError(`gave up after ${MAX_ATTEMPTS} attempts: record ${this.prefix + key} kept changing under this write`);
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The store's watch saw `key` set (or deleted, with undefined). */
  take(key: string, value: T | undefined): void {
    if (value === undefined) this.#records.delete(key);
    else this.#records.set(key, value);
  }

  /** The store's watch applied a batch touching this collection. */
  changed(): void {
    for (const l of this.#listeners) l();
  }
}
