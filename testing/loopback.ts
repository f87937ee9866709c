/**
 * Each test process takes its own 127.<a>.<b>.x block so workloads and nodes get
 * distinct addresses and parallel runs do not collide.
 */
const a = 100 + (process.pid % 100);
const b = Math.floor(Math.random() * 250) + 1;
let next = 2;

/** A fresh loopback address, unique within this process. */
export function loopbackAddress(): string {
  if (next > 254) throw new Error("loopbackAddress: block exhausted");
  return `127.${a}.${b}.${next++}`;
}
