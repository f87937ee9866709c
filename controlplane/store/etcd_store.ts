/**
 * The HA store: objects and records in etcd (docs/ha.md), so several
 * controlplanes share one state. Each replica keeps a local view (one range
 * read at start, then one watch on the prefix from the next revision), so reads
 * are in memory and every replica hears every write. A write reads the keys it
 * touches fresh, plans over them (_apply_plan.ts) and commits one transaction
 * guarded by their mod revisions: a lost race is planned again, and an object
 * naming a resourceVersion that is no longer current gets 409. It resolves once
 * this replica's view has caught up with the write (read-your-writes).
 *
 * Keys under the prefix (default `/ambit/`): `objects/<kind key>`,
 * `records/<collection>/<key>`, `audit/<time>-<id>`. An object's
 * resourceVersion is its key's mod revision; the value omits it.
 *
 * @example
 * ```ts
 * const store = await EtcdStore.open("etcd://127.0.0.1:2379,127.0.0.1:22379");
 * ```
 * @module
 */
import { Etcd3, type IKeyValue, type IOptions, type Watcher } from "etcd3";
import { type KubeObject, objectKey } from "../../config/objects.ts";
import { auditEntry, findObject, planApply, planDelete } from "./_apply_plan.ts";
import { ObjectView } from "./_object_view.ts";
import { type ConfigStore, type ObjectChange, type ObjectRef, type RecordCollection, StoreUnavailableError } from "./config_store.ts";
import { EtcdRecords } from "./etcd_records.ts";

/** How often a write that lost a race is planned again before giving up (503). */
const MAX_ATTEMPTS = 20;
/** How long a write waits for this replica's watch to show it. */
const CATCH_UP_MS = 10_000;

/** Client TLS to etcd: the CA that signed its serving certificate, and this replica's client certificate. */
export interface EtcdTls {
  readonly caPem: string;
  readonly certPem?: string;
  readonly keyPem?: string;
  /**
   * The name etcd's certificate is checked for, instead of the host in the URL. Needed on Bun when the URL
   * names an IP address: Bun's TLS refuses an IP as the server name that gRPC sends.
   */
  readonly serverName?: string;
}

/** `etcd://host:port,host:port[/prefix]` → client hosts (https with TLS) and key prefix. */
export function parseEtcdUrl(url: string, tls = false): { hosts: string[]; prefix: string } {
  const m = /^etcd:\/\/([^/]+)(\/.*)?$/.exec(url);
  if (!m) throw new StoreUnavailableError(`--store ${url}: must be etcd://host:port[,host:port…][/prefix]`);
  const hosts = m[1]!.split(",").filter(Boolean).map((h) => `${tls ? "https" : "http"}://${h}`);
  const prefix = `${(m[2] ?? "/ambit").replace(/\/+$/, "")}/`;
  return { hosts, prefix };
}

/** Config objects and record collections in etcd, with a watched local view. */
export class EtcdStore extends ObjectView implements ConfigStore {
  readonly #records = new Map<string, EtcdRecords<unknown>>();
  readonly #waiters: { revision: number; resolve: () => void }[] = [];
  #revision = 0;
  #watcher: Watcher | undefined;

  private constructor(readonly description: string, private readonly client: Etcd3, private readonly prefix: string) {
    super();
  }

  /** Connects, reads everything under the prefix, and starts watching. */
  static async open(url: string, tls?: EtcdTls): Promise<EtcdStore> {
    const { hosts, prefix } = parseEtcdUrl(url, !!tls);
    const options: IOptions = { hosts, dialTimeout: 5_000 };
    if (tls?.serverName) options.grpcOptions = { "grpc.ssl_target_name_override": tls.serverName, "grpc.default_authority": tls.serverName };
    if (tls) {
      options.credentials = {
        rootCertificate: Buffer.from(tls.caPem),
        ...(tls.certPem && tls.keyPem ? { certChain: Buffer.from(tls.certPem), privateKey: Buffer.from(tls.keyPem) } : {}),
      };
    }
    const store = new EtcdStore(url, new Etcd3(options), prefix);
    const all = await store.client.getAll().prefix(prefix).exec().catch((cause) => {
      throw new StoreUnavailableError(`cannot read etcd at ${hosts.join(", ")}: ${(cause as Error).message}`, { cause });
    });
    for (const kv of all.kvs) store.#take(kv, "Put");
    store.#revision = Number(all.header.revision);
    store.#watcher = await store.client.watch().prefix(prefix).startRevision(String(store.#revision + 1)).create();
    store.#watcher.on("data", (res) => {
      const touched = new Set<string>();
      for (const e of res.events) touched.add(store.#take(e.kv, e.type));
      store.#revision = Math.max(store.#revision, Number(res.header.revision));
      if (touched.has("objects")) store.notify();
      for (const name of touched) store.#records.get(name)?.changed();
      for (const w of store.#waiters.splice(0)) (w.revision <= store.#revision ? w.resolve() : store.#waiters.push(w));
    });
    return store;
  }

  get revision(): number {
    return this.#revision;
  }

  async apply(objects: readonly KubeObject[], who: string, options: { dryRun?: boolean } = {}): Promise<ObjectChange[]> {
    return await this.#write(objects.map(objectKey), (fresh) => {
      const { writes, changes } = planApply(fresh, objects);
      return { changes, puts: [...writes].map(([key, w]) => [key, w.object] as const), deletes: [], dryRun: options.dryRun, who, verb: "apply" };
    });
  }

  async delete(refs: readonly ObjectRef[], who: string, options: { dryRun?: boolean } = {}): Promise<ObjectChange[]> {
    // A ref without apiVersion is looked up in this replica's view: bring it up to etcd's current revision first,
    // so an object just written through another replica is found here too.
    if (refs.some((r) => !r.apiVersion)) await this.#caughtUp(Number((await this.client.get(this.#objectKey("")).exec()).header.revision));
    const keys = refs.map((r) => (r.apiVersion ? objectKey(r) : findObject(this.objects, r) && objectKey(findObject(this.objects, r)!))).filter((k): k is string => !!k);
    return await this.#write(keys, (fresh) => {
      const { deletes, changes } = planDelete(fresh, refs);
      return { changes, puts: [], deletes: [...deletes.keys()], dryRun: options.dryRun, who, verb: "delete" };
    });
  }

  async audit(limit = 100): Promise<unknown[]> {
    const res = await this.client.getAll().prefix(`${this.prefix}audit/`).sort("Key", "Descend").limit(limit).exec();
    return res.kvs.reverse().map((kv) => ({ ...JSON.parse(kv.value.toString()), revision: Number(kv.mod_revision) }));
  }

  records<T>(name: string): RecordCollection<T> {
    let r = this.#records.get(name);
    if (!r) this.#records.set(name, r = new EtcdRecords<unknown>(this.client, `${this.prefix}records/${name}/`, (rev) => this.#caughtUp(rev)));
    return r as RecordCollection<T>;
  }

  async close(): Promise<void> {
    await this.#watcher?.cancel().catch(() => undefined);
    this.client.close();
  }

  /** Plans over fresh copies of `keys` and commits if none changed meanwhile; plans again when one did. */
  async #write(keys: string[], plan: (fresh: Map<string, KubeObject>) => {
    changes: ObjectChange[]; puts: (readonly [string, KubeObject])[]; deletes: string[]; dryRun?: boolean; who: string; verb: string;
  }): Promise<ObjectChange[]> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const fresh = new Map<string, KubeObject>();
      const modRevisions = new Map<string, string>();
      for (const key of new Set(keys)) {
        const kv = (await this.client.get(this.#objectKey(key)).exec()).kvs[0];
        modRevisions.set(key, kv?.mod_revision ?? "0");
        if (kv) fresh.set(key, decodeObject(kv));
      }
      const p = plan(fresh);
      if (p.dryRun || (p.puts.length === 0 && p.deletes.length === 0)) return p.changes;
      const [first, ...rest] = [...new Set([...p.puts.map(([k]) => k), ...p.deletes])];
      let txn = this.client.if(this.#objectKey(first!), "Mod", "==", modRevisions.get(first!) ?? "0");
      for (const k of rest) txn = txn.and(this.#objectKey(k), "Mod", "==", modRevisions.get(k) ?? "0");
      const audit = `${this.prefix}audit/${new Date().toISOString()}-${crypto.randomUUID().slice(0, 8)}`;
      const result = await txn.then(
        ...p.puts.map(([k, o]) => this.client.put(this.#objectKey(k)).value(encodeObject(o))),
        ...p.deletes.map((k) => this.client.delete().key(this.#objectKey(k))),
        this.client.put(audit).value(JSON.stringify(auditEntry(p.who, p.verb, 0, p.changes))),
      ).commit();
      if (result.succeeded) {
        await this.#caughtUp(Number(result.header.revision));
        return p.changes;
      }
    }
    throw new StoreUnavailableError(`gave up after ${MAX_ATTEMPTS} attempts: the objects kept changing under this write`);
  }

  /** Resolves once the watch has shown revision `revision`. */
  #caughtUp(revision: number): Promise<void> {
    if (this.#revision >= revision) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new StoreUnavailableError(`the etcd watch has not shown revision ${revision} after ${CATCH_UP_MS} ms`)), CATCH_UP_MS);
      this.#waiters.push({ revision, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  #objectKey(key: string): string {
    return `${this.prefix}objects/${key}`;
  }

  /** Folds one key's event into the view; returns what it touched ("objects", a collection name, or "audit"). */
  #take(kv: IKeyValue, type: string): string {
    const rel = kv.key.toString().slice(this.prefix.length);
    const [area, ...restParts] = rel.split("/");
    const rest = restParts.join("/");
    if (area === "objects") {
      if (type === "Delete") this.objects.delete(rest);
      else this.objects.set(rest, decodeObject(kv));
      return "objects";
    }
    if (area === "records") {
      const [name, ...key] = restParts;
      (this.records(name!) as EtcdRecords<unknown>).take(key.join("/"), type === "Delete" ? undefined : JSON.parse(kv.value.toString()));
      return name!;
    }
    return area ?? "";
  }
}

function encodeObject(o: KubeObject): string {
  const { resourceVersion: _rv, ...metadata } = o.metadata;
  return JSON.stringify({ ...o, metadata });
}

function decodeObject(kv: IKeyValue): KubeObject {
  const o = JSON.parse(kv.value.toString()) as KubeObject;
  return { ...o, metadata: { ...o.metadata, resourceVersion: kv.mod_revision } };
}
