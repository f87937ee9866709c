// Token buckets for local rate limits: `requests` tokens, refilled evenly over
// `unitSeconds`, so a full bucket allows a burst of `requests` and then the
// configured rate. Buckets are keyed per policy rule and client key, held by the
// waypoint across config changes, and bounded in number (the oldest go first),
// so a caller minting new keys cannot grow memory without end.
import type { RateLimitRule } from "../xds/l7_policy_resources.ts";

/** What one take decided, with what the x-ratelimit-* headers report. */
export interface BucketAnswer {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** Seconds until a token is back (0 when one is left). */
  readonly resetSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** A waypoint's buckets. */
export class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>();

  constructor(private readonly maxBuckets = 100_000, private readonly now: () => number = () => performance.now()) {}

  /** Takes one token from the bucket of `key` under `rule`. */
  take(key: string, rule: RateLimitRule): BucketAnswer {
    const now = this.now();
    const perMs = rule.requests / (rule.unitSeconds * 1000);
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= this.maxBuckets) this.#buckets.delete(this.#buckets.keys().next().value!);
      b = { tokens: rule.requests, at: now };
      this.#buckets.set(key, b);
    } else {
      b.tokens = Math.min(rule.requests, b.tokens + (now - b.at) * perMs);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { allowed: true, limit: rule.requests, remaining: Math.floor(b.tokens), resetSeconds: b.tokens >= 1 ? 0 : Math.ceil((1 - b.tokens) / perMs / 1000) };
    }
    return { allowed: false, limit: rule.requests, remaining: 0, resetSeconds: Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000)) };
  }

  get size(): number {
    return this.#buckets.size;
  }
}
