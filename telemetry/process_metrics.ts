// The standard process metrics every Prometheus client library exports
// (https://prometheus.io/docs/instrumenting/writing_clientlibs/#process-metrics),
// read when scraped: CPU and memory from the runtime, descriptors from /proc.
import * as fs from "node:fs";
import type { MetricsRegistry } from "./metrics.ts";

/** What /proc/self/fd holds now: every open descriptor, and those that are sockets. */
export interface DescriptorCounts {
  readonly open: number;
  readonly sockets: number;
}

/** Counts this process's descriptors; undefined where there is no /proc (not Linux). */
export function countDescriptors(): DescriptorCounts | undefined {
  let names: string[];
  try {
    names = fs.readdirSync("/proc/self/fd");
  } catch {
    return undefined;
  }
  let sockets = 0;
  for (const n of names) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${n}`).startsWith("socket:")) sockets++;
    } catch { /* closed while we looked (or the listing's own descriptor) */ }
  }
  return { open: names.length, sockets };
}

/** The soft limit on open descriptors, from /proc/self/limits. */
function maxDescriptors(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(fs.readFileSync("/proc/self/limits", "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Registers process_cpu_seconds_total, process_resident_memory_bytes,
 * process_start_time_seconds, process_open_fds and process_max_fds. Returns a
 * function giving the descriptor counts of the last scrape, for metrics that
 * share that one walk of /proc/self/fd.
 */
export function registerProcessMetrics(registry: MetricsRegistry): () => DescriptorCounts | undefined {
  const cpu = registry.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", []);
  const rss = registry.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", []);
  const start = registry.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", []);
  const openFds = registry.gauge("process_open_fds", "Number of open file descriptors.", []);
  const maxFds = registry.gauge("process_max_fds", "Maximum number of open file descriptors.", []);
  start.set({}, Math.round((Date.now() - performance.now()) / 1000));
  const max = maxDescriptors();
  if (max !== undefined) maxFds.set({}, max);
  const cpuSeries = cpu.series();
  let last: DescriptorCounts | undefined;
  registry.onCollect(() => {
    const usage = process.cpuUsage();
    cpuSeries.value = (usage.user + usage.system) / 1e6;
    rss.set({}, process.memoryUsage().rss);
    last = countDescriptors();
    if (last) openFds.set({}, last.open);
  });
  return () => last;
}
