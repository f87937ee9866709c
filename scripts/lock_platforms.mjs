// The registry these machines reach serves only deno's linux-x64 platform
// package, so `npm install` leaves deno's other optional platform packages out of
// package-lock.json, and `npm ci` then refuses the lock as out of sync. This adds
// those entries back, gated by os/cpu so npm never fetches them here. Run it after
// any `npm install` that rewrites the lock; `--check` fails when it is needed.
import { readFileSync, writeFileSync } from "node:fs";

const file = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(file, "utf8"));
const platforms = {
  "darwin-arm64": { os: ["darwin"], cpu: ["arm64"] },
  "darwin-x64": { os: ["darwin"], cpu: ["x64"] },
  "linux-arm64-glibc": { os: ["linux"], cpu: ["arm64"], libc: ["glibc"] },
  "linux-x64-glibc": { os: ["linux"], cpu: ["x64"], libc: ["glibc"] },
  "win32-arm64": { os: ["win32"], cpu: ["arm64"] },
  "win32-x64": { os: ["win32"], cpu: ["x64"] },
};
const deno = lock.packages["node_modules/deno"];
let added = 0;
for (const [name, gate] of Object.entries(platforms)) {
  const key = `node_modules/@deno/${name}`;
  if (lock.packages[key]) continue;
  lock.packages[key] = { version: deno.version, ...gate, license: "MIT", optional: true };
  added++;
}
if (process.argv.includes("--check")) {
  if (added > 0) {
    console.error(`package-lock.json lacks ${added} deno platform entries: run node scripts/lock_platforms.mjs`);
    process.exit(1);
  }
} else if (added > 0) {
  lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))));
  writeFileSync(file, JSON.stringify(lock, null, 2) + "\n");
  console.log(`added ${added} deno platform entries to package-lock.json`);
}
