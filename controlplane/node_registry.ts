// Nodes that may join without Kubernetes, as kubeadm's bootstrap tokens work: a
// join token expires (default 1 h), is stored only as a hash and works once, to
// get the first node certificate; from then on the node renews with that
// certificate over mTLS. Revocation is final for the name: a new token does not
// undo it, and every certificate issued to the node (node and workload) is
// refused by serial until it expires. Records live in the store's `nodes`
// collection, so every replica shares them; writes are compare-and-swap.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { RecordCollection } from "./store/config_store.ts";
import { FileRecords } from "./store/file_records.ts";

/** A certificate the CA issued on a node's behalf, remembered until it expires. */
export interface IssuedCertificate {
  readonly serial: string;
  readonly notAfter: string;
  readonly kind: "node" | "workload";
}

/** One node as persisted (the store's `nodes` collection). */
export interface NodeRecord {
  readonly name: string;
  readonly createdAt: string;
  readonly createdBy: string;
  /** The outstanding join token, until it is used or expires. */
  readonly token?: { readonly hash: string; readonly expiresAt: string };
  readonly revokedAt?: string;
  readonly joinedAt?: string;
  readonly certificates?: readonly IssuedCertificate[];
}

/** What `ambit node list` shows. */
export interface NodeInfo {
  readonly name: string;
  readonly state: "active" | "revoked";
  readonly createdAt: string;
  readonly createdBy: string;
  readonly joinedAt?: string;
  /** When the outstanding join token stops working, if one is outstanding. */
  readonly tokenExpiresAt?: string;
}

/** Why a node may not get a token. */
export class NodeRevokedError extends Error {
  readonly code = "ERR_NODE_REVOKED";
}

const TOKEN_PREFIX = "ambitjoin.";
/** How long a join token works unless its creator says otherwise. */
export const DEFAULT_JOIN_TOKEN_TTL_SECONDS = 3600;
/** The longest a join token may be asked to work. */
export const MAX_JOIN_TOKEN_TTL_SECONDS = 7 * 24 * 3600;

/** The persisted set of nodes, their outstanding tokens and the certificates issued to them. */
export class NodeRegistry {
  readonly #nodes: RecordCollection<NodeRecord>;
  readonly #revokedSerials = new Map<string, number>();
  readonly #revokedNodes = new Set<string>();
  readonly #revokedListeners = new Set<(node: string) => void>();

  /** Over the store's `nodes` collection, or `<stateDir>/nodes.json`. */
  constructor(records: RecordCollection<NodeRecord> | string, private readonly now: () => number = Date.now) {
    this.#nodes = typeof records === "string" ? new FileRecords<NodeRecord>(records, "nodes") : records;
    this.#rebuildRevoked();
    this.#nodes.onChange(() => this.#rebuildRevoked());
  }

  /**
   * Issues a new join token for `node` (replacing any outstanding one) and
   * returns it: the only time it exists in clear. A revoked node gets none.
   */
  async createToken(node: string, who: string, ttlSeconds = DEFAULT_JOIN_TOKEN_TTL_SECONDS): Promise<{ token: string; expiresAt: string }> {
    const secret = randomBytes(24).toString("base64url");
    const expiresAt = new Date(this.now() + ttlSeconds * 1000).toISOString();
    let revokedAt: string | undefined;
    await this.#nodes.update(node, (existing) => {
      revokedAt = existing?.revokedAt;
      if (revokedAt) return undefined;
      const base = existing ?? { name: node, createdAt: new Date(this.now()).toISOString(), createdBy: who };
      return this.#pruned({ ...base, token: { hash: hash(secret), expiresAt } });
    });
    if (revokedAt) throw new NodeRevokedError(`node ${node} was revoked at ${revokedAt}; a revoked node name cannot join again`);
    return { token: `${TOKEN_PREFIX}${node}.${secret}`, expiresAt };
  }

  /**
   * Records a node that proved itself another way (Kubernetes mode: its ServiceAccount token, reviewed by
   * the API server), so its node certificate is accepted; a revoked node stays revoked.
   */
  async admit(node: string, who: string): Promise<boolean> {
    let revoked = false;
    await this.#nodes.update(node, (n) => {
      revoked = !!n?.revokedAt;
      return n ? undefined : { name: node, createdAt: new Date(this.now()).toISOString(), createdBy: who };
    });
    return !revoked;
  }

  /** The node a token belongs to, when it is outstanding, unexpired and the node not revoked. Does not use it up. */
  checkToken(token: string): string | undefined {
    const parsed = parseToken(token);
    if (!parsed) return undefined;
    return this.#matches(this.#nodes.get(parsed.node), parsed.secret) ? parsed.node : undefined;
  }

  /**
   * Uses a token up: returns its node once; every later call (and any other
   * holder of the same token racing this one, on any replica) gets undefined.
   */
  async redeemToken(token: string): Promise<string | undefined> {
    const parsed = parseToken(token);
    if (!parsed) return undefined;
    const written = await this.#nodes.update(parsed.node, (n) => {
      if (!n || !this.#matches(n, parsed.secret)) return undefined;
      const { token: _used, ...rest } = n;
      return { ...rest, joinedAt: new Date(this.now()).toISOString() };
    });
    return written ? parsed.node : undefined;
  }

  /** Remembers a certificate issued to `node`, so revoking the node can refuse it. */
  async recordCertificate(node: string, certificate: IssuedCertificate): Promise<void> {
    const recorded = { ...certificate, serial: normalizeSerial(certificate.serial) };
    await this.#nodes.update(node, (n) => n && this.#pruned({ ...n, certificates: [...(n.certificates ?? []), recorded] }));
  }

  /** Revokes a node: its token stops working and every certificate issued to it is refused. Returns false if unknown. */
  async revoke(node: string): Promise<boolean> {
    let known = false;
    await this.#nodes.update(node, (n) => {
      known = !!n;
      if (!n) return undefined;
      const { token: _dropped, ...rest } = n;
      return this.#pruned({ ...rest, revokedAt: n.revokedAt ?? new Date(this.now()).toISOString() });
    });
    return known;
  }

  /** True for a node that was created and not revoked. */
  isActive(node: string): boolean {
    const n = this.#nodes.get(node);
    return !!n && !n.revokedAt;
  }

  /** True for the serial of an unexpired certificate of a revoked node. */
  isRevokedSerial(serial: string): boolean {
    const notAfter = this.#revokedSerials.get(normalizeSerial(serial));
    return notAfter !== undefined && notAfter > this.now();
  }

  /** Serials of revoked nodes' certificates that have not expired yet. */
  revokedSerials(): string[] {
    const now = this.now();
    return [...this.#revokedSerials].filter(([, notAfter]) => notAfter > now).map(([serial]) => serial);
  }

  /**
   * Calls `listener` with each node revoked from now on, whichever replica revoked it (the store's watch),
   * so every replica closes that node's streams and stops trusting its certificates.
   */
  onRevoked(listener: (node: string) => void): () => void {
    this.#revokedListeners.add(listener);
    return () => this.#revokedListeners.delete(listener);
  }

  list(): NodeInfo[] {
    return [...this.#nodes.all().values()].map((n) => ({
      name: n.name,
      state: n.revokedAt ? "revoked" : "active",
      createdAt: n.createdAt,
      createdBy: n.createdBy,
      joinedAt: n.joinedAt,
      tokenExpiresAt: n.token?.expiresAt,
    }));
  }

  #matches(record: NodeRecord | undefined, secret: string): boolean {
    if (!record?.token || record.revokedAt || Date.parse(record.token.expiresAt) <= this.now()) return false;
    const a = Buffer.from(record.token.hash, "hex");
    const b = Buffer.from(hash(secret), "hex");
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** A record without the certificates that have expired (they need no refusing). */
  #pruned(n: NodeRecord): NodeRecord {
    const now = this.now();
    const live = (n.certificates ?? []).filter((c) => Date.parse(c.notAfter) > now);
    return live.length === (n.certificates ?? []).length ? n : { ...n, certificates: live };
  }

  #rebuildRevoked(): void {
    const now = this.now();
    this.#revokedSerials.clear();
    const newlyRevoked: string[] = [];
    for (const n of this.#nodes.all().values()) {
      if (!n.revokedAt) continue;
      if (!this.#revokedNodes.has(n.name)) this.#revokedNodes.add(n.name), newlyRevoked.push(n.name);
      for (const c of n.certificates ?? []) {
        const notAfter = Date.parse(c.notAfter);
        if (notAfter > now) this.#revokedSerials.set(normalizeSerial(c.serial), notAfter);
      }
    }
    for (const node of newlyRevoked) for (const listener of this.#revokedListeners) listener(node);
  }
}

/** `ambitjoin.<node>.<secret>`: the node name may itself contain dots (an FQDN); the secret never does. */
export function parseToken(token: string): { node: string; secret: string } | undefined {
  if (!token.startsWith(TOKEN_PREFIX)) return undefined;
  const rest = token.slice(TOKEN_PREFIX.length);
  const dot = rest.lastIndexOf(".");
  const node = rest.slice(0, dot);
  const secret = rest.slice(dot + 1);
  if (dot <= 0 || !/^[A-Za-z0-9_-]{16,}$/.test(secret)) return undefined;
  return { node, secret };
}

/** Serials compared case-insensitively and without leading zeros, however a runtime prints them. */
export function normalizeSerial(serial: string): string {
  return serial.replace(/:/g, "").toLowerCase().replace(/^0+(?=.)/, "");
}

function hash(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}
