// Preloaded into the xDS benchmark's controlplane process (BUN_OPTIONS=--preload):
// SIGUSR2 runs a full, synchronous garbage collection and prints the JS heap size,
// so the benchmark reads the controlplane's memory on what it retains, not on
// whatever garbage the last burst left.
import { heapStats } from "bun:jsc";

process.on("SIGUSR2", () => {
  Bun.gc(true);
  console.log(`bench-gc\theap=${heapStats().heapSize}`);
});
