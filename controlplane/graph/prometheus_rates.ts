// The service graph's rates from a Prometheus (`--prometheus-url`): one
// `rate(<metric>[window])` query per metric the graph reads, answered in the
// same sample shape as the controlplane's own scrape.
import type { MetricSample } from "../../telemetry/prometheus_text.ts";
import { GRAPH_METRICS } from "./service_graph.ts";

interface QueryAnswer {
  readonly status: string;
  readonly error?: string;
  readonly data?: { readonly resultType: string; readonly result: readonly { readonly metric: Record<string, string>; readonly value: [number, string] }[] };
}

/** Reads the graph's rates from the Prometheus at `baseUrl`; fails with the query named when Prometheus does. */
export async function prometheusRates(baseUrl: string, windowSeconds: number, timeoutMs = 5000): Promise<MetricSample[]> {
  const answers = await Promise.all(GRAPH_METRICS.map(async (name) => {
    const expr = `rate(${name}[${windowSeconds}s])`;
    const res = await fetch(new URL(`api/v1/query?query=${encodeURIComponent(expr)}`, baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`), {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "error",
    });
    const body = await res.json() as QueryAnswer;
    if (body.status !== "success" || body.data?.resultType !== "vector") throw new Error(`prometheus ${baseUrl}: ${expr}: ${body.error ?? res.status}`);
    return body.data.result.map((r): MetricSample => ({ name, labels: r.metric, value: Number(r.value[1]) }));
  }));
  return answers.flat();
}
