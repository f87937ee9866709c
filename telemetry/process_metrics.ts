// The standard process metrics every Prometheus client library exports
// (https://prometheus.io/docs/instrumenting/writing_clientlibs/#process-metrics),
// read when scraped: CPU and memory from the runtime, descriptors from /proc.
import * as fs from "node:fs";
import type { MetricsRegistry } from "./metrics.ts";

/** What /proc/self/fd holds: every open descriptor, and those that are sockets. */
export interface DescriptorCounts {
  readonly open: number;
  readonly sockets: number;
}

const BATCH = 128;

/**
 * Counts this process's descriptors, and those that are sockets; undefined where
 * there is no /proc (not Linux). Reading /proc/self/fd costs about 5 µs per
 * descriptor for the listing and as much again per readlink: 8,000 descriptors
 * done inline would stall the data path for 100 ms. So it runs on the runtime's
 * I/O threads, a batch at a time, never holding the event loop for long.
 */
export async function countDescriptors(): Promise<DescriptorCounts | undefined> {
  let names: string[];
  try {
    names = await fs.promises.readdir("/proc/self/fd");
  } catch {
    return undefined;
  }
  let sockets = 0;
  for (let i = 0; i < names.length; i += BATCH) {
    const links = await Promise.all(names.slice(i, i + BATCH).map((n) => fs.promises.readlink(`/proc/self/fd/${n}`).catch(() => "")));
    for (const l of links) if (l.startsWith("socket:")) sockets++;
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
 * function giving the latest descriptor counts. Those are counted in the
 * background after each scrape (see {@link countDescriptors}), so they are one
 * scrape old.
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
  let counting = false;
  const refresh = () => {
    if (counting) return;
    counting = true;
    void countDescriptors().then((d) => {
      last = d;
      if (d) openFds.set({}, d.open);
    }).finally(() => (counting = false));
  };
  refresh();
  registry.onCollect(() => {
    const usage = process.cpuUsage();
    cpuSeries.value = (usage.user + usage.system) / 1e6;
    rss.set({}, process.memoryUsage().rss);
    refresh();
  });
  return () => last;
}
