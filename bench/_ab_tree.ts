// The other side of an A/B benchmark: a commit exported read-only (git archive)
// to a temporary directory that shares this tree's node_modules.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** This checkout's root. */
export const HERE = path.join(import.meta.dirname, "..");

/** Exports `ref`; returns its short commit, its directory, and how to remove it. */
export function exportTree(ref: string): { commit: string; root: string; remove(): void } {
  const commit = execFileSync("git", ["-C", HERE, "rev-parse", "--short", ref], { encoding: "utf8" }).trim();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `ambit-ab-${commit}-`));
  execFileSync("sh", ["-c", `git -C "${HERE}" archive ${commit} | tar -x -C "${root}"`]);
  fs.symlinkSync(path.join(HERE, "node_modules"), path.join(root, "node_modules"));
  return { commit, root, remove: () => fs.rmSync(root, { recursive: true, force: true }) };
}

export const best = (a: readonly number[]): number => Math.max(...a);
export const median = (a: readonly number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1]!;
