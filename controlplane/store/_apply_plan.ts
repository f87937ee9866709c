// What an apply or delete would do to a set of objects, worked out without
// touching storage, so the file store and the etcd store decide alike: which
// objects are written (server-set metadata filled in), which are unchanged, and
// whether a named resourceVersion conflicts. The stores then write the plan
// atomically (a file rename, an etcd transaction).
import { canonicalJson } from "../../xds/protocol.ts";
import { describeObject, type KubeObject, objectKey } from "../../config/objects.ts";
import { type ObjectChange, type ObjectRef, StoreConflictError } from "./config_store.ts";

/** The objects an apply writes, by key, and what it reports. */
export interface ApplyPlan {
  /** Written objects without resourceVersion (the store sets it); `prior` is what they replace. */
  readonly writes: Map<string, { object: KubeObject; prior?: KubeObject }>;
  readonly changes: ObjectChange[];
}

/** Plans an apply over `current`; throws {@link StoreConflictError} when an object names a stale resourceVersion. */
export function planApply(current: ReadonlyMap<string, KubeObject>, objects: readonly KubeObject[], now = new Date().toISOString()): ApplyPlan {
  const writes: ApplyPlan["writes"] = new Map();
  const changes: ObjectChange[] = [];
  for (const o of objects) {
    const key = objectKey(o);
    const prior = writes.get(key)?.object ?? current.get(key);
    const expected = o.metadata.resourceVersion;
    if (expected !== undefined && expected !== "" && String(expected) !== current.get(key)?.metadata.resourceVersion) {
      throw new StoreConflictError(describeObject(o), String(expected), current.get(key)?.metadata.resourceVersion);
    }
    const incoming = strip(o);
    if (prior && canonicalJson(strip(prior)) === canonicalJson(incoming)) {
      changes.push({ object: describeObject(o), verb: "unchanged" });
      continue;
    }
    const specChanged = !prior || canonicalJson(prior.spec) !== canonicalJson(o.spec);
    const object: KubeObject = {
      ...incoming,
      metadata: {
        ...incoming.metadata,
        uid: prior?.metadata.uid ?? crypto.randomUUID(),
        creationTimestamp: prior?.metadata.creationTimestamp ?? now,
        generation: (prior?.metadata.generation ?? 0) + (specChanged ? 1 : 0) || 1,
      },
    };
    writes.set(key, { object, prior: writes.get(key)?.prior ?? current.get(key) });
    changes.push({ object: describeObject(o), verb: prior ? "configured" : "created" });
  }
  return { writes, changes };
}

/** The keys a delete removes, and what it reports. */
export function planDelete(current: ReadonlyMap<string, KubeObject>, refs: readonly ObjectRef[]): { deletes: Map<string, KubeObject>; changes: ObjectChange[] } {
  const deletes = new Map<string, KubeObject>();
  const changes: ObjectChange[] = refs.map((r) => {
    const found = findObject(current, r);
    const deleted = found !== undefined && !deletes.has(objectKey(found));
    if (deleted) deletes.set(objectKey(found), found);
    return { object: describeObject(found ?? r), verb: deleted ? "deleted" : "not found" };
  });
  return { deletes, changes };
}

/** An object by ref: by exact key with apiVersion, else by kind (short or qualified), namespace and name. */
export function findObject(objects: ReadonlyMap<string, KubeObject>, ref: ObjectRef): KubeObject | undefined {
  if (ref.apiVersion) return objects.get(objectKey(ref));
  for (const o of objects.values()) {
    const qualified = objectKey(o).split("/")[0];
    if ((o.kind === ref.kind || qualified === ref.kind) && o.metadata.name === ref.metadata.name && (o.metadata.namespace ?? "") === (ref.metadata.namespace ?? "")) return o;
  }
  return undefined;
}

/** Objects filtered by kind and namespace. */
export function filterObjects(objects: Iterable<KubeObject>, filter: { kind?: string; namespace?: string }): KubeObject[] {
  return [...objects].filter((o) => (!filter.kind || o.kind === filter.kind) && (!filter.namespace || o.metadata.namespace === filter.namespace));
}

/** The audit entry of one change. */
export function auditEntry(who: string, verb: string, revision: number, changes: readonly ObjectChange[]): Record<string, unknown> {
  return { time: new Date().toISOString(), who, verb, revision, changes: changes.filter((c) => c.verb !== "unchanged" && c.verb !== "not found") };
}

/** An object as the user owns it: server-set metadata and status removed. */
function strip(o: KubeObject): KubeObject {
  const { resourceVersion: _rv, generation: _g, uid: _u, creationTimestamp: _c, ...metadata } = o.metadata;
  return { apiVersion: o.apiVersion, kind: o.kind, metadata, ...(o.spec !== undefined ? { spec: o.spec } : {}), ...(o.kind === "Pod" && o.status !== undefined ? { status: o.status } : {}) };
}
