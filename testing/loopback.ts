/**
 * Each test process takes its own 127.<a>.<b>.x block so workloads and nodes get
 * distinct addresses and parallel runs do not collide.
 *
 * Deno runs every test file of one `deno test` in the same process but in a
 * fresh isolate, so this module (and its random `b`) is evaluated once per file
 * while `a`, from the pid, stays the same: two files could draw the same block,
 * and a later file's controlplane then shared 127.a.b.x:15012 with whatever an
 * earlier file left on it. The blocks already taken are therefore recorded in
 * the process environment, which every isolate of the process shares.
 */
const a = 100 + (process.pid % 100);
const TAKEN = "AMBIT_TEST_LOOPBACK_BLOCKS";
let b = claimBlock();
let next = 2;

function claimBlock(): number {
  const taken = new Set((process.env[TAKEN] ?? "").split(",").filter(Boolean).map(Number));
  const free = Array.from({ length: 250 }, (_, i) => i + 1).filter((n) => !taken.has(n));
  if (free.length === 0) throw new Error("loopbackAddress: every 127.a.b block of this process is taken");
  const mine = free[Math.floor(Math.random() * free.length)]!;
  process.env[TAKEN] = [...taken, mine].join(",");
  return mine;
}

/**
 * A fresh loopback address, unique within this process. One `bun test` of many
 * files shares this module, so a block that runs out is followed by another.
 */
export function loopbackAddress(): string {
  if (next > 254) {
    b = claimBlock();
    next = 2;
  }
  return `127.${a}.${b}.${next++}`;
}
