// The JSON Web Key Sets a waypoint verifies tokens with. Inline `jwks` are used
// as given; a `jwksUri` (or the issuer's OIDC discovery document) is fetched by
// the waypoint, cached, refreshed in the background when old, and refreshed at
// once when a token names a `kid` the cache does not hold — at most once per
// cooldown, so a stream of made-up kids cannot turn the waypoint into a load
// generator against the issuer. A failed refresh keeps the last good keys.
import { createLocalJWKSet, type JSONWebKeySet, type JWTHeaderParameters, type FlattenedJWSInput } from "jose";
import type { JwtRule } from "../xds/l7_policy_resources.ts";

type KeyLookup = ReturnType<typeof createLocalJWKSet>;
type CryptoKeyLike = Awaited<ReturnType<KeyLookup>>;

/** How the cache behaves (defaults: Envoy's 10-minute cache duration; 30 s between kid-miss refreshes). */
export interface JwksCacheOptions {
  readonly maxAgeMs?: number;
  readonly cooldownMs?: number;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly onRefresh?: (source: string, error?: Error) => void;
}

/** Where one rule's keys come from, shared by every rule naming the same source. */
export class KeySource {
  #lookup: KeyLookup | undefined;
  #fetchedAt = -Infinity;
  #lastKidRefresh = -Infinity;
  #inflight: Promise<void> | undefined;
  /** The last refresh failure, cleared by a success (for status and analysis). */
  lastError: string | undefined;
  /** How many times the keys were fetched. */
  fetches = 0;

  constructor(readonly source: string, private readonly load: (() => Promise<JSONWebKeySet>) | undefined, inline: JSONWebKeySet | undefined, private readonly options: Required<Omit<JwksCacheOptions, "fetch" | "onRefresh">> & Pick<JwksCacheOptions, "onRefresh">) {
    if (inline) this.#lookup = createLocalJWKSet(inline);
  }

  /** True once keys are held (inline, or fetched at least once). */
  get hasKeys(): boolean {
    return this.#lookup !== undefined;
  }

  /** A key for a token header, as jose's jwtVerify asks for one. */
  readonly getKey = async (header: JWTHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKeyLike> => {
    if (this.load) {
      if (!this.#lookup) await this.refresh();
      else if (this.options.now() - this.#fetchedAt > this.options.maxAgeMs) void this.refresh();
    }
    if (!this.#lookup) throw new Error(`no keys for ${this.source}: ${this.lastError ?? "not fetched"}`);
    try {
      return await this.#lookup(header, token);
    } catch (e) {
      const now = this.options.now();
      if (!this.load || (e as { code?: string }).code !== "ERR_JWKS_NO_MATCHING_KEY" || now - this.#lastKidRefresh < this.options.cooldownMs) throw e;
      this.#lastKidRefresh = now;
      await this.refresh();
      return await this.#lookup(header, token);
    }
  };

  /** Fetches the keys once (concurrent callers share the fetch); failures keep the last good keys. */
  refresh(): Promise<void> {
    if (!this.load) return Promise.resolve();
    return this.#inflight ??= this.load().then((set) => {
      this.#lookup = createLocalJWKSet(set);
      this.#fetchedAt = this.options.now();
      this.lastError = undefined;
      this.options.onRefresh?.(this.source);
    }, (e: Error) => {
      this.lastError = e.message;
      this.options.onRefresh?.(this.source, e);
    }).finally(() => {
      this.fetches++;
      this.#inflight = undefined;
    });
  }
}

/** Key sources by where they come from; lives as long as the waypoint, so caches survive config changes. */
export class JwksCache {
  readonly #sources = new Map<string, KeySource>();
  readonly #fetch: typeof fetch;
  readonly #options: Required<Omit<JwksCacheOptions, "fetch" | "onRefresh">> & Pick<JwksCacheOptions, "onRefresh">;

  constructor(options: JwksCacheOptions = {}) {
    this.#fetch = options.fetch ?? fetch;
    this.#options = { maxAgeMs: options.maxAgeMs ?? 600_000, cooldownMs: options.cooldownMs ?? 30_000, now: options.now ?? Date.now, onRefresh: options.onRefresh };
  }

  /** The key source of a rule: its inline JWKS, its jwksUri, or its issuer's discovery document. */
  sourceFor(rule: JwtRule): KeySource {
    const id = rule.jwks !== undefined ? `inline:${rule.jwks}` : rule.jwksUri ?? `discovery:${rule.issuer}`;
    let s = this.#sources.get(id);
    if (!s) {
      if (rule.jwks !== undefined) s = new KeySource("inline jwks", undefined, JSON.parse(rule.jwks) as JSONWebKeySet, this.#options);
      else s = new KeySource(rule.jwksUri ?? rule.issuer, () => this.#load(rule), undefined, this.#options);
      if (this.#sources.size > 1000) this.#sources.clear();
      this.#sources.set(id, s);
    }
    return s;
  }

  async #load(rule: JwtRule): Promise<JSONWebKeySet> {
    let uri = rule.jwksUri;
    if (!uri) {
      const doc = await this.#getJson(`${rule.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`, rule.timeoutMs) as { jwks_uri?: unknown };
      if (typeof doc.jwks_uri !== "string") throw new Error(`the discovery document of ${rule.issuer} has no jwks_uri`);
      uri = doc.jwks_uri;
    }
    const set = await this.#getJson(uri, rule.timeoutMs) as JSONWebKeySet;
    if (!set || !Array.isArray(set.keys)) throw new Error(`${uri} is not a JSON Web Key Set`);
    return set;
  }

  async #getJson(url: string, timeoutMs: number): Promise<unknown> {
    const res = await this.#fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "follow", headers: { accept: "application/json" } });
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
    const text = await res.text();
    if (text.length > 1_000_000) throw new Error(`GET ${url}: key set larger than 1 MB`);
    return JSON.parse(text) as unknown;
  }
}
