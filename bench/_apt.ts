// Reference programs the benchmarks compare against come from Debian: a bench
// installs what it needs itself, so a fresh machine runs it without a setup step.
import { execFileSync, spawnSync } from "node:child_process";

/**
 * The path of the first of `names` on PATH, installing Debian's `debianPackage`
 * with apt-get (as root) when none is there.
 *
 * @example
 * const stunnel = ensureDebianBinary(["stunnel4", "stunnel"], "stunnel4");
 */
export function ensureDebianBinary(names: readonly string[], debianPackage: string): string {
  const find = () => {
    for (const name of names) {
      const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
      if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
    }
    return undefined;
  };
  const found = find();
  if (found) return found;
  if (process.getuid?.() !== 0) throw new Error(`${names.join(" / ")} is not installed and this is not root: apt-get install -y ${debianPackage}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () => spawnSync("apt-get", ["install", "-y", "--no-install-recommends", debianPackage], { env, stdio: ["ignore", "ignore", "inherit"] }).status === 0;
  if (!install()) {
    // A fresh machine has no package lists yet.
    execFileSync("apt-get", ["update"], { env, stdio: ["ignore", "ignore", "inherit"] });
    if (!install()) throw new Error(`apt-get install ${debianPackage} failed`);
  }
  const after = find();
  if (!after) throw new Error(`${debianPackage} installed but none of ${names.join(", ")} is on PATH`);
  return after;
}
