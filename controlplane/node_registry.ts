// Nodes that may join without Kubernetes: one join token per node, stored only
// as a hash, revocable. A token proves "I am node X" once, to get a node
// certificate; after that the node authenticates with that certificate.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { RecordCollection } from "./store/config_store.ts";
import { FileRecords } from "./store/file_records.ts";

/** One node as persisted (the store's `nodes` collection). */
export interface NodeRecord {
  readonly name: string;
  readonly tokenHash?: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly revokedAt?: string;
  readonly joinedAt?: string;
}

/** What `ambit node list` shows. */
export interface NodeInfo {
  readonly name: string;
  readonly state: "active" | "revoked";
  readonly createdAt: string;
  readonly createdBy: string;
  readonly joinedAt?: string;
}

const TOKEN_PREFIX = "ambitjoin";

/** The persisted set of nodes and their token hashes (in the store, so every replica shares them). */
export class NodeRegistry {
  readonly #nodes: RecordCollection<NodeRecord>;

  /** Over the store's `nodes` collection, or `<stateDir>/nodes.json`. */
  constructor(records: RecordCollection<NodeRecord> | string) {
    this.#nodes = typeof records === "string" ? new FileRecords<NodeRecord>(records, "nodes") : records;
  }

  /**
   * Issues a new join token for `node` (replacing any earlier one) and returns
   * it: the only time it exists in clear.
   */
  async createToken(node: string, who: string): Promise<string> {
    const secret = randomBytes(24).toString("base64url");
    await this.#nodes.put(node, { name: node, tokenHash: hash(secret), createdAt: new Date().toISOString(), createdBy: who });
    return `${TOKEN_PREFIX}.${node}.${secret}`;
  }

  /**
   * Records a node that proved itself another way (Kubernetes mode: its ServiceAccount token, reviewed by
   * the API server), so its node certificate is accepted; a revoked node stays revoked.
   */
  async admit(node: string, who: string): Promise<boolean> {
    const n = this.#nodes.get(node);
    if (n?.revokedAt) return false;
    if (!n) await this.#nodes.put(node, { name: node, createdAt: new Date().toISOString(), createdBy: who });
    return true;
  }

  /** Revokes a node: its token stops working and its certificate is refused. Returns false if unknown. */
  async revoke(node: string): Promise<boolean> {
    const n = this.#nodes.get(node);
    if (!n) return false;
    await this.#nodes.put(node, { ...n, tokenHash: undefined, revokedAt: new Date().toISOString() });
    return true;
  }

  /** The node a token belongs to, when it is valid and not revoked. */
  verifyToken(token: string): string | undefined {
    const [prefix, node, secret, extra] = token.split(".");
    if (prefix !== TOKEN_PREFIX || !node || !secret || extra !== undefined) return undefined;
    const record = this.#nodes.get(node);
    if (!record?.tokenHash || record.revokedAt) return undefined;
    const a = Buffer.from(record.tokenHash, "hex");
    const b = Buffer.from(hash(secret), "hex");
    return a.length === b.length && timingSafeEqual(a, b) ? node : undefined;
  }

  /** True for a node that was created and not revoked. */
  isActive(node: string): boolean {
    const n = this.#nodes.get(node);
    return !!n && !n.revokedAt;
  }

  async markJoined(node: string): Promise<void> {
    const n = this.#nodes.get(node);
    if (!n) return;
    await this.#nodes.put(node, { ...n, joinedAt: new Date().toISOString() });
  }

  list(): NodeInfo[] {
    return [...this.#nodes.all().values()].map((n) => ({
      name: n.name,
      state: n.revokedAt ? "revoked" : "active",
      createdAt: n.createdAt,
      createdBy: n.createdBy,
      joinedAt: n.joinedAt,
    }));
  }

}

function hash(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}
