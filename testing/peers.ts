import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "./runtime_command.ts";

/** Debian's Python, which has python3-h2 (the pyenv python3 on PATH does not). */
export const SYSTEM_PYTHON = "/usr/bin/python3";

const goDir = path.join(repoRoot, "tests", "peers", "go");
const cacheDir = path.join(repoRoot, "node_modules", ".cache", "ambit-peers");

/**
 * Builds a Go peer from tests/peers/go once per source change (offline, stdlib
 * only) and returns the binary's path.
 */
export function goPeer(name: "hbone_client" | "hbone_server"): string {
  const hasher = createHash("sha256");
  for (const dir of [name, "peerpki"]) {
    for (const f of fs.readdirSync(path.join(goDir, dir)).sort()) hasher.update(fs.readFileSync(path.join(goDir, dir, f)));
  }
  const hash = hasher.digest("hex").slice(0, 12);
  const out = path.join(cacheDir, `${name}-${hash}`);
  if (!fs.existsSync(out)) {
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    execFileSync("go", ["build", "-o", tmp, `./${name}`], {
      cwd: goDir,
      env: { ...process.env, GOPROXY: "off", GOFLAGS: "-mod=mod", GOCACHE: path.join(cacheDir, "gocache"), CGO_ENABLED: "0" },
      stdio: "pipe",
    });
    fs.renameSync(tmp, out);
  }
  return out;
}

/** The python3-h2 HBONE client script. */
export const pythonH2Client: string = path.join(repoRoot, "tests", "peers", "h2_client.py");

/** What the Go and Python clients print per stream. */
export interface PeerClientResult {
  status?: number;
  peerSan?: string;
  sentBytes?: number;
  sentSha256?: string;
  receivedBytes?: number;
  receivedSha256?: string;
  error?: string;
}

/** Parses the JSON lines a peer client printed. */
export function parsePeerLines(stdout: string): PeerClientResult[] {
  return stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}
