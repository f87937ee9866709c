/**
 * VIP allocations kept in the store, so a service keeps its VIP across
 * restarts and every replica hands out the same one. Two collections:
 * `vips` (service key → address) and `vip-owners` (address → service key).
 * Translation stays synchronous: {@link PersistentVips.allocate} answers from
 * the persisted view and, for a new key, proposes the address the in-memory
 * allocator would (hash slot, then the next free one), remembering it as
 * pending; {@link PersistentVips.settle} then claims pending addresses with
 * create-if-absent on the address first and the key second, so two replicas
 * racing for one key or one address end with one owner, and releases keys no
 * longer translated. When settle changed anything, translate again.
 *
 * @example
 * ```ts
 * const vips = new PersistentVips(store, "240.240.0.0/16");
 * dataplane.update(store.list());
 * if (await vips.settle()) dataplane.update(store.list());
 * ```
 * @module
 */
import { TranslateError } from "../translate/errors.ts";
import { formatIpv4, fnv1a, parseRange, type VipAllocator } from "../translate/vip_allocator.ts";
import type { ConfigStore, RecordCollection } from "./config_store.ts";

/** Persisted VIP allocations with a synchronous allocator for translation. */
export class PersistentVips {
  readonly #byKey: RecordCollection<string>;
  readonly #owners: RecordCollection<string>;
  readonly #pending = new Map<string, string>();
  #retained: Set<string> | undefined;
  readonly #first: number;
  readonly #size: number;
  /** The allocator to give translation. */
  readonly allocate: VipAllocator;

  constructor(store: ConfigStore, readonly cidr: string) {
    this.#byKey = store.records<string>("vips");
    this.#owners = store.records<string>("vip-owners");
    ({ first: this.#first, size: this.#size } = parseRange(cidr));
    const allocate = (key: string) => this.#byKey.get(key) ?? this.#propose(key);
    this.allocate = Object.assign(allocate, { retain: (keys: Iterable<string>) => void (this.#retained = new Set(keys)), cidr });
  }

  /** Calls `listener` when another replica (or a settle) changed the allocations. */
  onChange(listener: () => void): () => void {
    return this.#byKey.onChange(listener);
  }

  /** Persists what the last translation proposed and releases what it no longer uses; true when anything changed. */
  async settle(): Promise<boolean> {
    let changed = false;
    for (const [key, address] of [...this.#pending]) {
      this.#pending.delete(key);
      if (this.#byKey.get(key) !== undefined) continue;
      const reserved = (await this.#owners.put(address, key, { ifAbsent: true })) || this.#owners.get(address) === key;
      changed = true;
      if (!reserved) continue; // taken meanwhile: the next translation proposes another
      if (!(await this.#byKey.put(key, address, { ifAbsent: true })) && this.#byKey.get(key) !== address) await this.#owners.delete(address);
    }
    const retained = this.#retained;
    this.#retained = undefined;
    if (retained) {
      for (const [key, address] of [...this.#byKey.all()]) {
        if (retained.has(key)) continue;
        await this.#byKey.delete(key);
        if (this.#owners.get(address) === key) await this.#owners.delete(address);
        changed = true;
      }
    }
    return changed;
  }

  #propose(key: string): string {
    const pending = this.#pending.get(key);
    if (pending) return pending;
    const proposed = new Set(this.#pending.values());
    const taken = (slot: number) => {
      const address = formatIpv4(this.#first + slot);
      return this.#owners.get(address) !== undefined || proposed.has(address);
    };
    if (this.#owners.all().size + proposed.size >= this.#size) throw new TranslateError("ERR_VIP_RANGE_EXHAUSTED", `no VIP left in ${this.cidr} for ${key}`);
    let slot = fnv1a(key) % this.#size;
    while (taken(slot)) slot = (slot + 1) % this.#size;
    const address = formatIpv4(this.#first + slot);
    this.#pending.set(key, address);
    return address;
  }
}
