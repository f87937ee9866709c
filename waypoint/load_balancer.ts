// Endpoint choice for one backend Service port: healthy endpoints only,
// round robin or least-request (two random choices, the fewer active requests
// wins, as Envoy's default). Counters live here, keyed by endpoint, so they
// survive config changes: an endpoint that stays keeps its count.
import type { Endpoint } from "./state.ts";

/** How endpoints are chosen. */
export type LoadBalancing = "round-robin" | "least-request";

/** Chooses endpoints and tracks requests active on each. */
export class LoadBalancer {
  readonly #active = new Map<string, number>();
  readonly #next = new Map<string, number>();

  constructor(private readonly mode: LoadBalancing, private readonly random: () => number = Math.random) {}

  /** A healthy endpoint, or undefined when none is; `exclude` skips endpoints already tried (retries). */
  pick(poolKey: string, endpoints: readonly Endpoint[], exclude: ReadonlySet<string> = new Set()): Endpoint | undefined {
    let healthy = endpoints.filter((e) => e.workload.status === "HEALTHY" && !exclude.has(e.key));
    if (healthy.length === 0 && exclude.size > 0) healthy = endpoints.filter((e) => e.workload.status === "HEALTHY");
    if (healthy.length === 0) return undefined;
    if (healthy.length === 1) return healthy[0];
    if (this.mode === "round-robin") {
      const i = (this.#next.get(poolKey) ?? 0) % healthy.length;
      this.#next.set(poolKey, i + 1);
      return healthy[i];
    }
    const a = healthy[Math.floor(this.random() * healthy.length)]!;
    let b = healthy[Math.floor(this.random() * healthy.length)]!;
    if (b === a) b = healthy[(healthy.indexOf(a) + 1) % healthy.length]!;
    return this.active(b.key) < this.active(a.key) ? b : a;
  }

  /** Marks a request started on an endpoint; call the returned function when it ends. */
  started(endpoint: Endpoint): () => void {
    this.#active.set(endpoint.key, this.active(endpoint.key) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = this.active(endpoint.key) - 1;
      if (n <= 0) this.#active.delete(endpoint.key);
      else this.#active.set(endpoint.key, n);
    };
  }

  /** Requests active on an endpoint now. */
  active(key: string): number {
    return this.#active.get(key) ?? 0;
  }
}
