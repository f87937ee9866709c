// PromQL's histogram_quantile over cumulative bucket rates, so the graph's p99
// reads the same from the controlplane's own scrape as from a Prometheus.

/**
 * The `q` quantile of a cumulative histogram (`le` → count or rate), with
 * linear interpolation inside the bucket as Prometheus does; the +Inf bucket
 * answers the highest finite bound. Undefined when the histogram is empty.
 *
 * @example
 * ```ts
 * histogramQuantile(0.5, new Map([[10, 5], [100, 10], [Infinity, 10]])); // 10
 * ```
 */
export function histogramQuantile(q: number, buckets: ReadonlyMap<number, number>): number | undefined {
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (!(total > 0) || sorted.at(-1)![0] !== Infinity) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Infinity) return lowerBound;
      if (count === lowerCount) return le;
      return lowerBound + (le - lowerBound) * ((rank - lowerCount) / (count - lowerCount));
    }
    lowerBound = le;
    lowerCount = count;
  }
  return lowerBound;
}
