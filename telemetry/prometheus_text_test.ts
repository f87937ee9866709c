import { expect, test } from "bun:test";
import { parsePrometheusText } from "./prometheus_text.ts";

test("parses names, labels with escapes, and values; skips comments and garbage", () => {
  const text = [
    "# HELP istio_requests_total Total requests",
    "# TYPE istio_requests_total counter",
    'istio_requests_total{reporter="waypoint",destination_workload="a\\"b\\\\c\\nd",response_code="200"} 12',
    'istio_request_duration_milliseconds_bucket{le="+Inf"} 3',
    "process_open_fds 42",
    'broken{a="unterminated} 1',
    "also broken",
    'istio_x{a="1",} 2.5 1700000000000',
  ].join("\n");
  expect(parsePrometheusText(text)).toEqual([
    { name: "istio_requests_total", labels: { reporter: "waypoint", destination_workload: 'a"b\\c\nd', response_code: "200" }, value: 12 },
    { name: "istio_request_duration_milliseconds_bucket", labels: { le: "+Inf" }, value: 3 },
    { name: "process_open_fds", labels: {}, value: 42 },
    { name: "istio_x", labels: { a: "1" }, value: 2.5 },
  ]);
});

test("keep filters by name before labels are read", () => {
  expect(parsePrometheusText("a 1\nb 2\n", (n) => n === "b")).toEqual([{ name: "b", labels: {}, value: 2 }]);
});

test("a label named __proto__ is a plain key", () => {
  const [s] = parsePrometheusText('m{__proto__="x"} 1');
  expect(Object.keys(s!.labels)).toEqual(["__proto__"]);
});
