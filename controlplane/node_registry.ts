// Nodes that may join without Kubernetes: one join token per node, stored only
// as a hash, revocable. A token proves "I am node X" once, to get a node
// certificate; after that the node authenticates with that certificate.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileDurably } from "./store/durable_file.ts";

interface NodeRecord {
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

/** The persisted set of nodes and their token hashes. */
export class NodeRegistry {
  readonly #nodes = new Map<string, NodeRecord>();
  readonly #file: string;

  constructor(stateDir: string) {
    this.#file = path.join(stateDir, "nodes.json");
    if (fs.existsSync(this.#file)) {
      for (const n of JSON.parse(fs.readFileSync(this.#file, "utf8")) as NodeRecord[]) this.#nodes.set(n.name, n);
    }
  }

  /**
   * Issues a new join token for `node` (replacing any earlier one) and returns
   * it: the only time it exists in clear.
   */
  createToken(node: string, who: string): string {
    const secret = randomBytes(24).toString("base64url");
    this.#nodes.set(node, { name: node, tokenHash: hash(secret), createdAt: new Date().toISOString(), createdBy: who });
    this.#save();
    return `${TOKEN_PREFIX}.${node}.${secret}`;
  }

  /** Revokes a node: its token stops working and its certificate is refused. Returns false if unknown. */
  revoke(node: string): boolean {
    const n = this.#nodes.get(node);
    if (!n) return false;
    this.#nodes.set(node, { ...n, tokenHash: undefined, revokedAt: new Date().toISOString() });
    this.#save();
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

  markJoined(node: string): void {
    const n = this.#nodes.get(node);
    if (!n) return;
    this.#nodes.set(node, { ...n, joinedAt: new Date().toISOString() });
    this.#save();
  }

  list(): NodeInfo[] {
    return [...this.#nodes.values()].map((n) => ({
      name: n.name,
      state: n.revokedAt ? "revoked" : "active",
      createdAt: n.createdAt,
      createdBy: n.createdBy,
      joinedAt: n.joinedAt,
    }));
  }

  #save(): void {
    writeFileDurably(this.#file, JSON.stringify([...this.#nodes.values()], null, 1));
  }
}

function hash(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}
