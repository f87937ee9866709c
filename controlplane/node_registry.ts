// Nodes that may join without Kubernetes, as kubeadm's bootstrap tokens work: a
// join token expires (default 1 h), is stored only as a hash and works once, to
// get the first node certificate; from then on the node renews with that
// certificate over mTLS. Revocation is final for the name: a new token does not
// undo it, and every certificate issued to the node (node and workload) is
// refused by serial until it expires.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileDurably } from "./store/durable_file.ts";

/** A certificate the CA issued on a node's behalf, remembered until it expires. */
export interface IssuedCertificate {
  readonly serial: string;
  readonly notAfter: string;
  readonly kind: "node" | "workload";
}

interface NodeRecord {
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
  readonly #nodes = new Map<string, NodeRecord>();
  readonly #revokedSerials = new Map<string, number>();
  readonly #file: string;

  constructor(stateDir: string, private readonly now: () => number = Date.now) {
    this.#file = path.join(stateDir, "nodes.json");
    if (fs.existsSync(this.#file)) {
      for (const n of JSON.parse(fs.readFileSync(this.#file, "utf8")) as NodeRecord[]) this.#nodes.set(n.name, n);
    }
    for (const n of this.#nodes.values()) if (n.revokedAt) for (const c of n.certificates ?? []) this.#revokedSerials.set(c.serial, Date.parse(c.notAfter));
  }

  /**
   * Issues a new join token for `node` (replacing any outstanding one) and
   * returns it: the only time it exists in clear. A revoked node gets none.
   */
  createToken(node: string, who: string, ttlSeconds = DEFAULT_JOIN_TOKEN_TTL_SECONDS): { token: string; expiresAt: string } {
    const existing = this.#nodes.get(node);
    if (existing?.revokedAt) throw new NodeRevokedError(`node ${node} was revoked at ${existing.revokedAt}; a revoked node name cannot join again`);
    const secret = randomBytes(24).toString("base64url");
    const expiresAt = new Date(this.now() + ttlSeconds * 1000).toISOString();
    const base = existing ?? { name: node, createdAt: new Date(this.now()).toISOString(), createdBy: who };
    this.#nodes.set(node, { ...base, token: { hash: hash(secret), expiresAt } });
    this.#save();
    return { token: `${TOKEN_PREFIX}${node}.${secret}`, expiresAt };
  }

  /** The node a token belongs to, when it is outstanding, unexpired and the node not revoked. Does not use it up. */
  checkToken(token: string): string | undefined {
    const parsed = parseToken(token);
    if (!parsed) return undefined;
    const record = this.#nodes.get(parsed.node);
    if (!record?.token || record.revokedAt || Date.parse(record.token.expiresAt) <= this.now()) return undefined;
    const a = Buffer.from(record.token.hash, "hex");
    const b = Buffer.from(hash(parsed.secret), "hex");
    return a.length === b.length && timingSafeEqual(a, b) ? parsed.node : undefined;
  }

  /**
   * Uses a token up: returns its node once; every later call (and any other
   * holder of the same token racing this one) gets undefined.
   */
  redeemToken(token: string): string | undefined {
    const node = this.checkToken(token);
    if (!node) return undefined;
    const { token: _used, ...rest } = this.#nodes.get(node)!;
    this.#nodes.set(node, { ...rest, joinedAt: new Date(this.now()).toISOString() });
    this.#save();
    return node;
  }

  /** Remembers a certificate issued to `node`, so revoking the node can refuse it. */
  recordCertificate(node: string, certificate: IssuedCertificate): void {
    const n = this.#nodes.get(node);
    if (!n) return;
    this.#nodes.set(node, { ...n, certificates: [...(n.certificates ?? []), { ...certificate, serial: normalizeSerial(certificate.serial) }] });
    this.#save();
  }

  /** Revokes a node: its token stops working and every certificate issued to it is refused. Returns false if unknown. */
  revoke(node: string): boolean {
    const n = this.#nodes.get(node);
    if (!n) return false;
    const { token: _dropped, ...rest } = n;
    this.#nodes.set(node, { ...rest, revokedAt: n.revokedAt ?? new Date(this.now()).toISOString() });
    for (const c of n.certificates ?? []) this.#revokedSerials.set(c.serial, Date.parse(c.notAfter));
    this.#save();
    return true;
  }

  /** True for a node that was created and not revoked. */
  isActive(node: string): boolean {
    const n = this.#nodes.get(node);
    return !!n && !n.revokedAt;
  }

  /** True for the serial of an unexpired certificate of a revoked node. */
  isRevokedSerial(serial: string): boolean {
    return this.#revokedSerials.has(normalizeSerial(serial));
  }

  /** Serials of revoked nodes' certificates that have not expired yet. */
  revokedSerials(): string[] {
    return [...this.#revokedSerials.keys()];
  }

  list(): NodeInfo[] {
    return [...this.#nodes.values()].map((n) => ({
      name: n.name,
      state: n.revokedAt ? "revoked" : "active",
      createdAt: n.createdAt,
      createdBy: n.createdBy,
      joinedAt: n.joinedAt,
      tokenExpiresAt: n.token?.expiresAt,
    }));
  }

  /** Writes the set, first forgetting certificates that have expired (they need no refusing). */
  #save(): void {
    const now = this.now();
    for (const [serial, notAfter] of this.#revokedSerials) if (notAfter <= now) this.#revokedSerials.delete(serial);
    for (const [name, n] of this.#nodes) {
      const live = (n.certificates ?? []).filter((c) => Date.parse(c.notAfter) > now);
      if (live.length !== (n.certificates ?? []).length) this.#nodes.set(name, { ...n, certificates: live });
    }
    writeFileDurably(this.#file, JSON.stringify([...this.#nodes.values()], null, 1));
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
