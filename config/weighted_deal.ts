// Configured shares — a route's backend weights, a sampling percentage — dealt
// exactly: over every cycle of sum(weights)/gcd picks each index comes up
// weight/gcd times, in a fresh random order each cycle.
//
// Why not an independent draw per pick (Envoy's weighted clusters and random
// sampling): that is right only on average. 1,000 picks at 90/10 land outside
// 100 ± 30 about once in 600 tries, and a canary's first requests, the ones its
// analysis judges, drift the most. Why not a fixed interleave (nginx's smooth
// weighted round robin): a client whose requests come in a fixed pattern can
// resonate with it (every second request of a page always reaching v2). A
// shuffled deck has neither fault. It lives in config because both the
// waypoint's backend choice and telemetry's sampler deal configured weights.

/** Deals indices of `weights` (non-negative; rounded to integers). */
export class WeightedDeal {
  readonly #cycle: number[];
  readonly #left: number[];
  #leftTotal = 0;

  constructor(weights: readonly number[], private readonly random: () => number = Math.random) {
    const whole = weights.map((w) => (Number.isFinite(w) && w > 0 ? Math.round(w) : 0));
    const divisor = whole.reduce(gcd, 0) || 1;
    this.#cycle = whole.map((w) => w / divisor);
    this.#left = [...this.#cycle];
  }

  /** The next index; undefined when every weight is 0. */
  next(): number | undefined {
    if (this.#leftTotal === 0) {
      for (let i = 0; i < this.#cycle.length; i++) this.#left[i] = this.#cycle[i]!;
      this.#leftTotal = this.#cycle.reduce((t, w) => t + w, 0);
      if (this.#leftTotal === 0) return undefined;
    }
    let r = Math.min(Math.floor(this.random() * this.#leftTotal), this.#leftTotal - 1);
    for (let i = 0; i < this.#left.length; i++) {
      const w = this.#left[i]!;
      if (r < w) {
        this.#left[i] = w - 1;
        this.#leftTotal--;
        return i;
      }
      r -= w;
    }
    return undefined; // unreachable: r < #leftTotal = sum of #left
  }
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
