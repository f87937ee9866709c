// Runs before every npm script that needs the toolchain: on a fresh clone it
// installs the pinned npm packages (Bun and Deno among them), and, as root on
// Debian, the packages the tests' independent peers come from. Plain Node so it
// works before Bun exists.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const lock = join(root, "package-lock.json");
const installed = join(root, "node_modules", ".package-lock.json");

if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  console.error("ambit: installing npm dependencies (npm ci)…");
  execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
}

const wantsPeers = process.argv.includes("--test-peers");
if (wantsPeers) {
  const packages = readFileSync(join(root, "scripts", "test_packages.txt"), "utf8").split("\n").filter(Boolean);
  const missing = packages.filter((p) => spawnSync("dpkg-query", ["-W", "-f=${Status}", p], { encoding: "utf8" }).stdout !== "install ok installed");
  if (missing.length > 0) {
    const isRoot = process.getuid?.() === 0;
    if (isRoot && existsSync("/usr/bin/apt-get")) {
      console.error(`ambit: installing test peers from Debian: ${missing.join(" ")}`);
      execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
      execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], {
        stdio: "inherit",
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      });
    } else {
      console.error(`ambit: the tests need these Debian packages: ${missing.join(" ")} (sudo apt-get install ${missing.join(" ")})`);
    }
  }
}
