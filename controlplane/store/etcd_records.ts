// A record collection under one etcd prefix: the view is fed by the store's
// watch (etcd_store.ts); `ifAbsent` is a transaction on the key's create
// revision, so of two replicas creating one key exactly one wins.
import type { Etcd3 } from "etcd3";
import type { RecordCollection } from "./config_store.ts";

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
