// Waypoint tokens: how a waypoint process proves "I am waypoint ns/name" on the
// TLS listener (Authorization: Bearer <token>), to subscribe to its own xDS view
// and to get its own certificate. Stored only as hashes, one per waypoint,
// reissuing replaces the earlier one, revocable — like node join tokens. They
// live in the store's `waypoint-tokens` collection, so every replica on one
// store (docs/ha.md) accepts a token any of them issued.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { RecordCollection } from "./store/config_store.ts";
import { FileRecords } from "./store/file_records.ts";

/** One waypoint's token as persisted. */
export interface TokenRecord {
  /** "namespace/name" of the waypoint Gateway. */
  readonly waypoint: string;
  readonly tokenHash?: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly revokedAt?: string;
}

/** What `ambit waypoint token list` shows. */
export interface WaypointTokenInfo {
  readonly waypoint: string;
  readonly state: "active" | "revoked";
  readonly createdAt: string;
  readonly createdBy: string;
  readonly revokedAt?: string;
}

/** Every waypoint token starts `ambitwaypoint.`: how a bearer token is told from the admin token. */
export const WAYPOINT_TOKEN_PREFIX = "ambitwaypoint";
const TOKEN_PREFIX = WAYPOINT_TOKEN_PREFIX;
const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** "namespace/name" when `waypoint` is one, else undefined. */
export function parseWaypointKey(waypoint: unknown): { namespace: string; name: string } | undefined {
  if (typeof waypoint !== "string") return undefined;
  const [namespace, name, extra] = waypoint.split("/");
  return namespace && name && extra === undefined && NAME_RE.test(namespace) && NAME_RE.test(name) && namespace.length <= 63 && name.length <= 253
    ? { namespace, name }
    : undefined;
}

/** The persisted waypoint tokens. */
export class WaypointTokens {
  readonly #records: RecordCollection<TokenRecord>;

  /** Over the store's `waypoint-tokens` collection, or `<stateDir>/waypoint-tokens.json`. */
  constructor(records: RecordCollection<TokenRecord> | string) {
    this.#records = typeof records === "string" ? new FileRecords<TokenRecord>(records, "waypoint-tokens", (r) => r.waypoint) : records;
  }

  /** Issues a token for `waypoint` ("ns/name"), replacing any earlier one; returns it, the only time it exists in clear. */
  async issue(waypoint: string, who: string): Promise<string> {
    const key = parseWaypointKey(waypoint);
    if (!key) throw new Error(`waypoint must be "namespace/name", got ${JSON.stringify(waypoint)}`);
    const secret = randomBytes(24).toString("base64url");
    await this.#records.put(waypoint, { waypoint, tokenHash: hash(secret), createdAt: new Date().toISOString(), createdBy: who });
    return `${TOKEN_PREFIX}.${key.namespace}.${key.name}.${secret}`;
  }

  /** Revokes the waypoint's token. Returns false when it has none. */
  async revoke(waypoint: string): Promise<boolean> {
    const written = await this.#records.update(waypoint, (r) => (r && !r.revokedAt ? { ...r, tokenHash: undefined, revokedAt: new Date().toISOString() } : undefined));
    return written !== undefined;
  }

  /** The waypoint ("ns/name") a token belongs to, when valid and not revoked; `revoked` when it was. */
  verify(token: string): { waypoint: string } | { revoked: string } | undefined {
    const [prefix, namespace, name, secret, extra] = token.split(".");
    if (prefix !== TOKEN_PREFIX || !namespace || !name || !secret || extra !== undefined) return undefined;
    const record = this.#records.get(`${namespace}/${name}`);
    if (!record) return undefined;
    if (!record.tokenHash) return { revoked: record.waypoint };
    const a = Buffer.from(record.tokenHash, "hex");
    const b = Buffer.from(hash(secret), "hex");
    return a.length === b.length && timingSafeEqual(a, b) ? { waypoint: record.waypoint } : undefined;
  }

  list(): WaypointTokenInfo[] {
    return [...this.#records.all().values()].map((r) => ({
      waypoint: r.waypoint, state: r.revokedAt ? "revoked" : "active", createdAt: r.createdAt, createdBy: r.createdBy,
      ...(r.revokedAt ? { revokedAt: r.revokedAt } : {}),
    }));
  }
}

function hash(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}
