// Table tests for the Prometheus registry: text exposition format
// (https://prometheus.io/docs/instrumenting/exposition_formats/), label
// escaping, "unknown" for missing labels, and sum().
import { expect, test } from "bun:test";
import { type Metric, MetricsRegistry } from "./metrics.ts";

interface RenderRow {
  readonly name: string;
  /** Registers metrics and records values. */
  readonly build: (r: MetricsRegistry) => void;
  readonly want: string;
}

const renderRows: RenderRow[] = [
  { name: "an empty registry renders nothing", build: () => {}, want: "" },
  {
    name: "a metric with no series renders HELP and TYPE only",
    build: (r) => void r.counter("ambit_x_total", "Things.", ["a"]),
    want: "# HELP ambit_x_total Things.\n# TYPE ambit_x_total counter\n",
  },
  {
    name: "counter with labels, in labelNames order whatever the object order",
    build: (r) => r.counter("c_total", "C.", ["reporter", "source"]).inc({ source: "s", reporter: "r" }),
    want: '# HELP c_total C.\n# TYPE c_total counter\nc_total{reporter="r",source="s"} 1\n',
  },
  {
    name: "inc by an amount adds up",
    build: (r) => {
      const c = r.counter("bytes_total", "Bytes.", ["dir"]);
      c.inc({ dir: "in" }, 100);
      c.inc({ dir: "in" }, 23.5);
    },
    want: '# HELP bytes_total Bytes.\n# TYPE bytes_total counter\nbytes_total{dir="in"} 123.5\n',
  },
  {
    name: "series render in the order first seen",
    build: (r) => {
      const c = r.counter("c_total", "C.", ["k"]);
      c.inc({ k: "b" });
      c.inc({ k: "a" });
      c.inc({ k: "b" });
    },
    want: '# HELP c_total C.\n# TYPE c_total counter\nc_total{k="b"} 2\nc_total{k="a"} 1\n',
  },
  {
    name: "a metric without labels has no braces",
    build: (r) => r.gauge("up", "Up.", []).set({}, 1),
    want: "# HELP up Up.\n# TYPE up gauge\nup 1\n",
  },
  {
    name: "gauge set overwrites, and may go negative",
    build: (r) => {
      const g = r.gauge("g", "G.", ["k"]);
      g.set({ k: "a" }, 5);
      g.set({ k: "a" }, -2);
    },
    want: '# HELP g G.\n# TYPE g gauge\ng{k="a"} -2\n',
  },
  {
    name: "missing, undefined and empty labels become \"unknown\"",
    build: (r) => {
      const c = r.counter("c_total", "C.", ["a", "b", "c"]);
      c.inc({ b: undefined, c: "" });
    },
    want: '# HELP c_total C.\n# TYPE c_total counter\nc_total{a="unknown",b="unknown",c="unknown"} 1\n',
  },
  {
    name: "labels not declared are ignored",
    build: (r) => {
      const c = r.counter("c_total", "C.", ["a"]);
      c.inc({ a: "x", extra: "1" });
      c.inc({ a: "x", extra: "2" });
    },
    want: '# HELP c_total C.\n# TYPE c_total counter\nc_total{a="x"} 2\n',
  },
  {
    name: "label values escape backslash, double quote and newline",
    build: (r) => r.counter("c_total", "C.", ["v"]).inc({ v: 'a\\b "q"\nz' }),
    want: '# HELP c_total C.\n# TYPE c_total counter\nc_total{v="a\\\\b \\"q\\"\\nz"} 1\n',
  },
  {
    name: "a backslash before a quote is escaped on its own",
    build: (r) => r.counter("c_total", "C.", ["v"]).inc({ v: '\\"' }),
    want: '# HELP c_total C.\n# TYPE c_total counter\nc_total{v="\\\\\\""} 1\n',
  },
  {
    name: "other characters pass through (UTF-8, braces, commas, =)",
    build: (r) => r.counter("c_total", "C.", ["v"]).inc({ v: "héllo {a=b,c}" }),
    want: '# HELP c_total C.\n# TYPE c_total counter\nc_total{v="héllo {a=b,c}"} 1\n',
  },
  {
    name: "several metrics render in registration order",
    build: (r) => {
      const b = r.gauge("b", "B.", []);
      const a = r.counter("a_total", "A.", []);
      a.inc();
      b.set({}, 3);
    },
    want: "# HELP b B.\n# TYPE b gauge\nb 3\n# HELP a_total A.\n# TYPE a_total counter\na_total 1\n",
  },
  {
    // The format: "backslash and line feed characters have to be escaped as \\ and \n" in HELP.
    name: "HELP text escapes backslash and newline",
    build: (r) => void r.counter("c_total", "Line one\nC:\\path", []),
    want: "# HELP c_total Line one\\nC:\\\\path\n# TYPE c_total counter\n",
  },
];

for (const row of renderRows) {
  test(`render: ${row.name}`, () => {
    const r = new MetricsRegistry();
    row.build(r);
    expect(r.render()).toBe(row.want);
  });
}

test("render: every sample line of a metric has the same label names", () => {
  const r = new MetricsRegistry();
  const c = r.counter("istio_tcp_connections_opened_total", "Opened.", ["reporter", "source_workload", "destination_workload"]);
  c.inc({ reporter: "source" });
  c.inc({ reporter: "destination", source_workload: "sleep", destination_workload: "echo" });
  const samples = r.render().split("\n").filter((l) => l && !l.startsWith("#"));
  expect(samples).toHaveLength(2);
  for (const s of samples) {
    expect([...s.matchAll(/(\w+)="/g)].map((m) => m[1])).toEqual(["reporter", "source_workload", "destination_workload"]);
  }
});

// --- value() ---
function sample(): Metric {
  const c = new MetricsRegistry().counter("c_total", "C.", ["reporter", "dest"]);
  c.inc({ reporter: "source", dest: "echo" }, 3);
  c.inc({ reporter: "source", dest: "db" }, 4);
  c.inc({ reporter: "destination", dest: "echo" }, 5);
  c.inc({ dest: "echo" }, 7); // reporter "unknown"
  return c;
}

const valueRows: { name: string; labels: Record<string, string | undefined>; want: number }[] = [
  { name: "an existing series", labels: { reporter: "source", dest: "echo" }, want: 3 },
  { name: "an absent series is 0", labels: { reporter: "source", dest: "nope" }, want: 0 },
  { name: "missing labels look up the \"unknown\" series", labels: { dest: "echo" }, want: 7 },
  { name: "empty labels look up the \"unknown\" series", labels: { reporter: "", dest: "echo" }, want: 7 },
];
for (const row of valueRows) {
  test(`value: ${row.name}`, () => {
    expect(sample().value(row.labels)).toBe(row.want);
  });
}

// --- sum() ---
const sumRows: { name: string; match: Record<string, string>; want: number }[] = [
  { name: "no filter: every series", match: {}, want: 19 },
  { name: "one label", match: { reporter: "source" }, want: 7 },
  { name: "two labels", match: { reporter: "source", dest: "echo" }, want: 3 },
  { name: "by destination across reporters", match: { dest: "echo" }, want: 15 },
  { name: "the \"unknown\" value is matchable", match: { reporter: "unknown" }, want: 7 },
  { name: "no series matches", match: { reporter: "nobody" }, want: 0 },
  { name: "an undeclared label never matches", match: { pod: "x" }, want: 0 },
];
for (const row of sumRows) {
  test(`sum: ${row.name}`, () => {
    expect(sample().sum(row.match)).toBe(row.want);
  });
}

test("sum: an empty metric sums to 0", () => {
  expect(new MetricsRegistry().gauge("g", "G.", ["a"]).sum()).toBe(0);
});

test("metric metadata is kept", () => {
  const g = new MetricsRegistry().gauge("ambit_pool_size", "Pool size.", ["peer"]);
  expect([g.name, g.help, g.type, g.labelNames]).toEqual(["ambit_pool_size", "Pool size.", "gauge", ["peer"]]);
});

// --- series() and onCollect() ---
test("series: a held series adds to the same sample as inc() with those labels", () => {
  const r = new MetricsRegistry();
  const c = r.counter("c_total", "C.", ["k"]);
  const s = c.series({ k: "a" });
  s.value += 5;
  c.inc({ k: "a" });
  expect(c.value({ k: "a" })).toBe(6);
  expect(s.labels).toEqual({ k: "a" });
});

test("series: asking creates the series at 0, so it renders before its first increment", () => {
  const r = new MetricsRegistry();
  r.counter("c_total", "C.", ["reason"]).series({ reason: "Error" });
  expect(r.render()).toBe('# HELP c_total C.\n# TYPE c_total counter\nc_total{reason="Error"} 0\n');
});

test("onCollect: collectors run, in order, before every render", () => {
  const r = new MetricsRegistry();
  const g = r.gauge("g", "G.", []);
  const order: string[] = [];
  let n = 0;
  r.onCollect(() => (order.push("first"), g.set({}, ++n)));
  r.onCollect(() => order.push("second"));
  expect(r.render()).toContain("g 1");
  expect(r.render()).toContain("g 2");
  expect(order).toEqual(["first", "second", "first", "second"]);
});
