// The compiled binaries of `npm run build`, for benchmarks and tests that run
// them: rebuilt with `bun scripts/build.ts` when one is missing or older than
// any source file it could bundle.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "./runtime_command.ts";

/** Top-level folders that are never bundled into a binary; cli/ and samples/ only into `ambit`. */
const NOT_BUNDLED = ["node_modules", "dist", "tmp", "tests", "testing", "bench", "scripts", "docs", "containers"];
const ONLY_IN_AMBIT = ["cli", "samples"];

/** Paths of dist/<name> for each name, built first when stale; `rebuilt` says whether a build ran. */
export function ensureBinaries(names: string[]): { paths: Record<string, string>; rebuilt: boolean } {
  const paths = Object.fromEntries(names.map((n) => [n, path.join(repoRoot, "dist", n)]));
  // The build's own flags count too: a binary built with other flags is stale.
  const buildInputs = ["package.json", "scripts/build.ts", "scripts/build_flags.ts"].map((f) => path.join(repoRoot, f));
  const newestSource = Math.max(...[...buildInputs, ...sourceFiles(new Set(names.includes("ambit") ? NOT_BUNDLED : [...NOT_BUNDLED, ...ONLY_IN_AMBIT]))].map((f) => fs.statSync(f).mtimeMs));
  const stale = Object.values(paths).some((p) => !fs.existsSync(p) || fs.statSync(p).mtimeMs < newestSource);
  if (stale) {
    execFileSync(path.join(repoRoot, "node_modules", ".bin", "bun"), [path.join(repoRoot, "scripts", "build.ts")], { cwd: repoRoot, stdio: ["ignore", "ignore", "inherit"] });
    for (const p of Object.values(paths)) if (!fs.existsSync(p)) throw new Error(`bun scripts/build.ts did not produce ${p}`);
  }
  return { paths, rebuilt: stale };
}

function sourceFiles(skipped: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith(".")) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|yaml)$/.test(e.name) && !e.name.endsWith("_test.ts")) out.push(p);
    }
  };
  for (const e of fs.readdirSync(repoRoot, { withFileTypes: true })) {
    if (e.isDirectory() && !e.name.startsWith(".") && !skipped.has(e.name)) walk(path.join(repoRoot, e.name));
    else if (e.isFile() && e.name.endsWith(".ts")) out.push(path.join(repoRoot, e.name));
  }
  return out;
}
