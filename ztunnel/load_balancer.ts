/**
 * Endpoint choice, per service: each service (or waypoint service) keeps its
 * own round-robin turn, so two services called alternately each still walk all
 * their endpoints (one counter shared by every service would hand both the same
 * index every time). istio/ztunnel picks at random per call; a per-key turn is
 * as fair and makes the spread predictable in tests.
 *
 * @example
 * ```ts
 * const lb = new RoundRobin();
 * lb.choose("default/reviews.default.svc.cluster.local", 3); // 0, then 1, 2, 0 …
 * ```
 * @module
 */

/** How many keys keep a turn before the oldest are forgotten (services come and go with config). */
const MAX_KEYS = 4096;

/** Round robin with one turn per key. */
export class RoundRobin {
  readonly #turns = new Map<string, number>();

  /** An index in [0, n) for `key`: the key's next turn. */
  choose(key: string, n: number): number {
    if (n <= 1) return 0;
    const turn = this.#turns.get(key) ?? 0;
    // Re-inserted so the map's order is least recently used first.
    this.#turns.delete(key);
    this.#turns.set(key, (turn + 1) % n);
    if (this.#turns.size > MAX_KEYS) this.#turns.delete(this.#turns.keys().next().value!);
    return turn % n;
  }
}
