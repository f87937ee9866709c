// The controlplane's own scrape of the data plane, for the service graph with
// nothing else installed: every target of the http_sd list (ztunnels and
// waypoints) is read every few seconds, and rates come from the oldest and newest
// scrape inside the window, as PromQL's rate() would give them.
import type { ScrapeTargetGroup } from "../service_discovery.ts";
import { type MetricSample, parsePrometheusText } from "../../telemetry/prometheus_text.ts";
import { GRAPH_METRICS } from "./service_graph.ts";

/** A target answering more than this is cut off (the graph's metrics are a small part of a scrape). */
const MAX_SCRAPE_BYTES = 16 * 1024 * 1024;
const WANTED = new Set<string>(GRAPH_METRICS);

interface Scrape {
  readonly at: number;
  readonly series: Map<string, MetricSample>;
}

/** Scrapes the targets on a timer and answers per-second rates over a window. */
export class MeshScraper {
  readonly #history = new Map<string, Scrape[]>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<void> | undefined;

  constructor(private readonly options: {
    readonly targets: () => readonly ScrapeTargetGroup[];
    readonly intervalMs: number;
    readonly windowMs: number;
    readonly timeoutMs?: number;
  }) {}

  start(): void {
    void this.scrapeOnce();
    this.#timer = setInterval(() => void this.scrapeOnce(), this.options.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** One round over every target (skipped while the last is still running). */
  scrapeOnce(): Promise<void> {
    this.#running ??= this.#round().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Per-second rates of the graph's metrics over the window, each sample with its target's labels. */
  rates(now = preciseNow()): MetricSample[] {
    const out: MetricSample[] = [];
    for (const scrapes of this.#history.values()) {
      const inWindow = scrapes.filter((s) => s.at >= now - this.options.windowMs - this.options.intervalMs);
      if (inWindow.length < 2) continue;
      const first = inWindow[0]!;
      const last = inWindow.at(-1)!;
      const seconds = (last.at - first.at) / 1000;
      if (!(seconds > 0)) continue;
      for (const [key, sample] of last.series) {
        const before = first.series.get(key)?.value ?? 0;
        // A counter that went down was reset (the proxy restarted): what it shows now all came since.
        const moved = sample.value >= before ? sample.value - before : sample.value;
        out.push({ ...sample, value: moved / seconds });
      }
    }
    return out;
  }

  async #round(): Promise<void> {
    const groups = this.options.targets();
    const live = new Set<string>();
    await Promise.all(groups.flatMap((g) => g.targets.map(async (target) => {
      live.add(target);
      const series = await this.#scrape(target, g.labels);
      if (!series) return;
      const kept = (this.#history.get(target) ?? []).filter((s) => s.at >= preciseNow() - this.options.windowMs - 2 * this.options.intervalMs);
      kept.push({ at: preciseNow(), series });
      this.#history.set(target, kept);
    })));
    for (const target of this.#history.keys()) if (!live.has(target)) this.#history.delete(target);
  }

  async #scrape(target: string, labels: Readonly<Record<string, string>>): Promise<Map<string, MetricSample> | undefined> {
    try {
      const res = await fetch(`http://${target}/metrics`, { signal: AbortSignal.timeout(this.options.timeoutMs ?? 2000), redirect: "error" });
      if (!res.ok || !res.body) return undefined;
      const text = await readBounded(res.body, MAX_SCRAPE_BYTES);
      const series = new Map<string, MetricSample>();
      for (const s of parsePrometheusText(text, (name) => WANTED.has(name))) {
        // Target labels win over the sample's own, as in Prometheus (honor_labels: false).
        const merged = { ...s.labels, ...labels };
        series.set(`${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`, { name: s.name, labels: merged, value: s.value });
      }
      return series;
    } catch {
      return undefined;
    }
  }
}

async function readBounded(body: ReadableStream<Uint8Array>, limit: number): Promise<string> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new Error(`scrape larger than ${limit} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Wall-clock milliseconds with a fraction: two scrapes within one millisecond still have a time between them. */
function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}
