// `npm run build`: one self-contained binary per service in dist/, from
// `bun build --compile`. (deno compile would need a download these machines
// cannot make.) Binaries are not stripped: stripping breaks Bun's embedded code.
import { COMPILE_FLAGS } from "./build_flags.ts";
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.join(import.meta.dirname, "..");
const entries: Record<string, string> = {
  ztunnel: "ztunnel/main.ts",
  controlplane: "controlplane/main.ts",
  waypoint: "waypoint/main.ts",
  ambit: "cli/main.ts",
};
fs.mkdirSync(path.join(root, "dist"), { recursive: true });
let failed = false;
for (const [name, entry] of Object.entries(entries)) {
  if (!fs.existsSync(path.join(root, entry))) continue;
  const proc = Bun.spawnSync([process.execPath, "build", ...COMPILE_FLAGS, entry, "--outfile", `dist/${name}`], { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (proc.exitCode !== 0) failed = true;
  else console.log(`built dist/${name} (${(fs.statSync(path.join(root, "dist", name)).size / 1048576).toFixed(1)} MiB)`);
}
process.exit(failed ? 1 : 0);
