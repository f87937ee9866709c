/**
 * The one interface the controlplane keeps its state behind: config objects,
 * with kubectl's optimistic concurrency (an object that carries
 * `metadata.resourceVersion` is written only over that version, else 409), and
 * keyed record collections for everything else that must outlive a replica —
 * the node registry, VIP allocations, CA material. Reads come from a local
 * view kept current by the backend's watch; writes are compare-and-swap. The
 * file store (object_store.ts) is the embedded default; etcd_store.ts is the
 * HA one (docs/ha.md).
 *
 * @example
 * ```ts
 * const store = await openStore({ store: "etcd://127.0.0.1:2379", stateDir: ".ambit/controlplane" });
 * const changes = await store.apply(objects, "admin-token");
 * store.onChange(() => retranslate(store.list()));
 * ```
 * @module
 */
import { AmbitError } from "../../errors/mod.ts";
import type { Condition, KubeObject } from "../../config/objects.ts";

/** What an apply or delete did to one object, kubectl-style. */
export interface ObjectChange {
  readonly object: string;
  readonly verb: "created" | "configured" | "unchanged" | "deleted" | "not found";
}

/** An object by kind, namespace and name (apiVersion optional). */
export interface ObjectRef {
  readonly apiVersion?: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
}

/** Config objects and record collections, persisted. */
export interface ConfigStore {
  /** Which backend, for logs: `file:<dir>` or `etcd://…`. */
  readonly description: string;
  /** The store's revision: it grows with every change. */
  readonly revision: number;
  /** Objects, optionally of one kind and namespace. */
  list(filter?: { kind?: string; namespace?: string }): KubeObject[];
  /** An object by kind (`Gateway` or `Gateway.gateway.networking.k8s.io`), namespace and name. */
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  /** Calls `listener` after every change to the objects, whichever replica made it. */
  onChange(listener: () => void): () => void;
  /**
   * Creates or updates objects, all or nothing, persisted before it resolves.
   * Rejects with {@link StoreConflictError} when an object names a resourceVersion that is not the stored one.
   */
  apply(objects: readonly KubeObject[], who: string, options?: { dryRun?: boolean }): Promise<ObjectChange[]>;
  /** Deletes objects, all or nothing. */
  delete(refs: readonly ObjectRef[], who: string, options?: { dryRun?: boolean }): Promise<ObjectChange[]>;
  /** Who changed what, newest last. */
  audit(limit?: number): Promise<unknown[]>;
  /**
   * Writes computed status conditions back where the objects live (Kubernetes mode, by the Lease holder
   * only); stores that serve conditions with each object instead have none.
   */
  publishStatus?(statusOf: (o: KubeObject) => readonly Condition[] | undefined): Promise<void>;
  /** Kubernetes mode: the node a ztunnel's ServiceAccount token was issued on (TokenReview), if it is one. */
  reviewNodeToken?(token: string): Promise<{ node: string; who: string } | undefined>;
  /** A named collection of records kept beside the objects. */
  records<T>(name: string): RecordCollection<T>;
  close(): Promise<void>;
}

/** Records by key, read from a local view, written with compare-and-swap. */
export interface RecordCollection<T> {
  all(): ReadonlyMap<string, T>;
  get(key: string): T | undefined;
  /** Writes a record; with `ifAbsent`, only when the key has none (resolves false when it had one). */
  put(key: string, value: T, options?: { ifAbsent?: boolean }): Promise<boolean>;
  delete(key: string): Promise<void>;
  /**
   * Rewrites a record from its current value, compare-and-swap: when another replica wrote it in between,
   * `change` runs again on the newer value (so it must be pure). `change` returns undefined to leave the
   * record as it is. Resolves with what was written, or undefined when nothing was.
   */
  update(key: string, change: (current: T | undefined) => T | undefined): Promise<T | undefined>;
  /** Calls `listener` after a change, whichever replica made it. */
  onChange(listener: () => void): () => void;
}

/** A write lost a compare-and-swap: the object changed since the version the caller named (HTTP 409). */
export class StoreConflictError extends AmbitError {
  constructor(readonly object: string, readonly expected: string, readonly actual: string | undefined) {
    super("ERR_STORE_CONFLICT", `${object}: resourceVersion ${expected} is not the stored one (${actual ?? "none: it does not exist"}); get it again and retry`);
  }
}

/** The store is unreachable or refused a write it should have taken (HTTP 503). */
export class StoreUnavailableError extends AmbitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_STORE_UNAVAILABLE", message, options);
  }
}
