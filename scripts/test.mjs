// `npm test`: the Bun suite (unit + end-to-end), then the end-to-end suite on
// Deno, then one plain closing line with the totals ("tests: N passed, M failed").
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const only = process.argv[2]; // "bun" | "deno" | undefined (both)

function run(cmd, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const relay = (stream) => (d) => {
      out += d;
      stream.write(d);
    };
    child.stdout.on("data", relay(process.stdout));
    child.stderr.on("data", relay(process.stderr));
    child.on("close", (code, signal) => {
      // A runner killed by a signal prints no summary of its own: say which signal, so the cause can be found.
      if (signal) console.log(`${cmd} ${args.join(" ")}: ended by ${signal}`);
      resolve({ code: code ?? 128, out });
    });
  });
}

let passed = 0;
let failed = 0;
let broken = false;

async function bunTest(args, env) {
  const r = await run(bin("bun"), ["test", ...args], env);
  const p = /^\s*(\d+) pass$/m.exec(r.out);
  const f = /^\s*(\d+) fail$/m.exec(r.out);
  passed += Number(p?.[1] ?? 0);
  failed += Number(f?.[1] ?? 0);
  if (r.code !== 0 && !f?.[1]) broken = true;
  if (r.code !== 0 && Number(f?.[1] ?? 0) === 0) failed++;
}

if (only !== "deno") {
  await bunTest([]);
  // On Bun, HBONE defaults to the lean stack (hbone/h2/); the HBONE suites run
  // again over node:http2, the stack Deno uses and the fallback on Bun.
  console.log("\nHBONE suites again on Bun with AMBIT_HBONE_HTTP2=node:");
  await bunTest(["tests/hbone_"], { AMBIT_HBONE_HTTP2: "node" });
}
if (only !== "bun") {
  const r = await run(bin("deno"), ["task", "test:e2e"]);
  const m = /(\d+) passed \| (\d+) failed/.exec(r.out);
  passed += Number(m?.[1] ?? 0);
  failed += Number(m?.[2] ?? 0);
  if (r.code !== 0 && !m) {
    broken = true;
    console.log(`deno task test:e2e exited ${r.code} without its summary${r.code > 128 ? ` (signal ${r.code - 128})` : ""}`);
  }
  if (r.code !== 0 && Number(m?.[2] ?? 0) === 0) failed++;
}
if (broken) console.log("a test runner exited without its summary; counted as a failure");
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
