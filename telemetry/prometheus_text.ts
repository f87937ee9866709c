// Reads Prometheus's text exposition format (what every Ambit /metrics serves)
// into samples, for the controlplane's own scrape of the data plane. Bounded: a
// target that answers too much or garbage costs a skipped line, never a crash.

/** One sample: a metric name, its labels and its value. */
export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/y;

/**
 * Parses the text format; comments, malformed lines and names `keep` refuses are skipped.
 *
 * @example
 * ```ts
 * parsePrometheusText('istio_requests_total{reporter="waypoint"} 3\n');
 * // [{ name: "istio_requests_total", labels: { reporter: "waypoint" }, value: 3 }]
 * ```
 */
export function parsePrometheusText(text: string, keep: (name: string) => boolean = () => true): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m || !keep(m[1]!)) continue;
    const labels = m[3] === undefined ? {} : parseLabels(m[3]);
    const value = parseValue(m[4]!);
    if (labels === undefined || value === undefined) continue;
    samples.push({ name: m[1]!, labels, value });
  }
  return samples;
}

function parseLabels(body: string): Record<string, string> | undefined {
  const labels: Record<string, string> = Object.create(null);
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < body.length) {
    const start = LABEL.lastIndex;
    const m = LABEL.exec(body);
    if (!m || LABEL.lastIndex === start) return body.slice(start).trim() === "" ? labels : undefined;
    labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
  }
  return labels;
}

function parseValue(s: string): number | undefined {
  if (s === "+Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  if (s === "NaN") return NaN;
  const n = Number(s);
  return Number.isNaN(n) ? undefined : n;
}
