/**
 * A small Prometheus registry: counters and gauges with labels, rendered in the
 * text exposition format. Label names are fixed per metric so every series of a
 * metric has the same label set, as promtool expects.
 *
 * @example
 * ```ts
 * const registry = new MetricsRegistry();
 * const opened = registry.counter("istio_tcp_connections_opened_total", "Connections opened", ["reporter"]);
 * opened.inc({ reporter: "source" });
 * registry.render();
 * ```
 */
export class MetricsRegistry {
  readonly #metrics: Metric[] = [];
  readonly #collectors: (() => void)[] = [];

  /** Registers a counter (monotonic). */
  counter(name: string, help: string, labelNames: readonly string[]): Metric {
    return this.#add(new Metric(name, help, "counter", labelNames));
  }

  /** Registers a gauge (goes up and down, or is set). */
  gauge(name: string, help: string, labelNames: readonly string[]): Metric {
    return this.#add(new Metric(name, help, "gauge", labelNames));
  }

  /**
   * Runs `collect` before every render: for values read when scraped (process
   * figures, bytes of connections still open) rather than pushed as they change.
   */
  onCollect(collect: () => void): void {
    this.#collectors.push(collect);
  }

  /** Brings every collected value up to date (render does this itself). */
  collect(): void {
    for (const c of this.#collectors) c();
  }

  /** The whole registry in Prometheus text format. */
  render(): string {
    this.collect();
    return this.#metrics.map((m) => m.render()).join("");
  }

  #add(m: Metric): Metric {
    this.#metrics.push(m);
    return m;
  }
}

/** One series of a metric: a hot path may hold it and add to `value` directly. */
export interface Series {
  readonly labels: Readonly<Record<string, string>>;
  value: number;
}

/** One metric family: its series keyed by label values. */
export class Metric {
  readonly #series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge",
    readonly labelNames: readonly string[],
  ) {}

  /** Adds `by` (default 1) to the series with these labels; missing labels are "unknown". */
  inc(labels: Readonly<Record<string, string | undefined>> = {}, by = 1): void {
    const s = this.#get(labels);
    s.value += by;
  }

  /** The series with these labels (created at 0), to add to without looking it up again. */
  series(labels: Readonly<Record<string, string | undefined>> = {}): Series {
    return this.#get(labels);
  }

  /** Sets a gauge's series. */
  set(labels: Readonly<Record<string, string | undefined>>, value: number): void {
    this.#get(labels).value = value;
  }

  /** Current value of a series (0 when absent); for tests and admin views. */
  value(labels: Readonly<Record<string, string | undefined>> = {}): number {
    return this.#series.get(this.#key(this.#normalize(labels)))?.value ?? 0;
  }

  /** Sum over every series whose labels include `match`. */
  sum(match: Readonly<Record<string, string>> = {}): number {
    let total = 0;
    for (const s of this.#series.values()) {
      if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
    }
    return total;
  }

  render(): string {
    const help = this.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
    const lines = [`# HELP ${this.name} ${help}`, `# TYPE ${this.name} ${this.type}`];
    for (const s of this.#series.values()) {
      const labels = this.labelNames.map((n) => `${n}="${escapeLabel(s.labels[n]!)}"`).join(",");
      lines.push(`${this.name}${labels ? `{${labels}}` : ""} ${s.value}`);
    }
    return lines.join("\n") + "\n";
  }

  #normalize(labels: Readonly<Record<string, string | undefined>>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const n of this.labelNames) out[n] = labels[n] || "unknown";
    return out;
  }

  #key(labels: Record<string, string>): string {
    return this.labelNames.map((n) => labels[n]).join("\u0000");
  }

  #get(labels: Readonly<Record<string, string | undefined>>): Series {
    const normalized = this.#normalize(labels);
    const key = this.#key(normalized);
    let s = this.#series.get(key);
    if (!s) {
      s = { labels: normalized, value: 0 };
      this.#series.set(key, s);
    }
    return s;
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}
