// A record collection in one JSON file (`<dir>/<name>.json`), rewritten
// durably on every change: what the embedded store keeps beside the objects.
// One process owns the file, so compare-and-swap is a check in memory.
import * as fs from "node:fs";
import * as path from "node:path";
import type { RecordCollection } from "./config_store.ts";
import { writeFileDurably } from "./durable_file.ts";

/** Records of one kind in a file; an older file holding an array is read keyed by each record's `name` (or `keyOf`). */
export class FileRecords<T> implements RecordCollection<T> {
  readonly #records = new Map<string, T>();
  readonly #listeners = new Set<() => void>();
  readonly #file: string;

  /** `keyOf` names the key of each record in an older file holding an array (by default its `name`). */
  constructor(dir: string, name: string, keyOf: (record: T) => string = (r) => (r as { name: string }).name) {
    this.#file = path.join(dir, `${name}.json`);
    if (!fs.existsSync(this.#file)) return;
    const data = JSON.parse(fs.readFileSync(this.#file, "utf8")) as unknown;
    const entries = Array.isArray(data) ? (data as T[]).map((r) => [keyOf(r), r] as const) : Object.entries(data as Record<string, T>);
    for (const [k, v] of entries) this.#records.set(k, v as T);
  }

  all(): ReadonlyMap<string, T> {
    return this.#records;
  }

  get(key: string): T | undefined {
    return this.#records.get(key);
  }

  put(key: string, value: T, options: { ifAbsent?: boolean } = {}): Promise<boolean> {
    if (options.ifAbsent && this.#records.has(key)) return Promise.resolve(false);
    const next = new Map(this.#records).set(key, value);
    this.#save(next);
    return Promise.resolve(true);
  }

  delete(key: string): Promise<void> {
    if (!this.#records.has(key)) return Promise.resolve();
    const next = new Map(this.#records);
    next.delete(key);
    this.#save(next);
    return Promise.resolve();
  }

  update(key: string, change: (current: T | undefined) => T | undefined): Promise<T | undefined> {
    const next = change(this.#records.get(key));
    if (next !== undefined) this.#save(new Map(this.#records).set(key, next));
    return Promise.resolve(next);
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Persist first: if the write throws, memory still holds the last durable state. */
  #save(next: Map<string, T>): void {
    writeFileDurably(this.#file, JSON.stringify(Object.fromEntries(next), null, 1));
    this.#records.clear();
    for (const [k, v] of next) this.#records.set(k, v);
    for (const l of this.#listeners) l();
  }
}
