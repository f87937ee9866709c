// `ambit dev` as a new user meets it: `npm run dev` (on Bun; on Deno the same
// CLI under `deno run`, so the whole mesh runs on Deno) in its own process
// group, as a terminal runs it; wait for the ready line; run the two printed
// commands; Ctrl-C (SIGINT to the group); check by pid that nothing it started
// is left. Then restarts on the same state. Dev mode uses fixed addresses
// (127.0.0.1:15010/15012, 127.0.10.x, 127.0.20.x), so these tests stay in this
// one file and run one after another.
import * as assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ensureBinaries } from "../testing/binaries.ts";
import { afterAll, repoRoot, runCommand, runtime, runtimeCommand, test } from "../testing/mod.ts";

const READY = /Ambit dev mesh is ready/;
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-dev-"));
const PATH = `${path.join(repoRoot, "node_modules", ".bin")}:${process.env.PATH}`;
const running: Dev[] = [];
afterAll(() => {
  for (const d of running) if (d.child.exitCode === null && d.child.signalCode === null) process.kill(-d.child.pid!, "SIGKILL");
  fs.rmSync(stateDir, { recursive: true, force: true });
});

interface Dev {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<unknown>;
  waitFor(re: RegExp, ms: number): Promise<string>;
}

/**
 * Starts `npm run dev` (Bun) or `deno run cli/main.ts dev` (Deno) in its own
 * process group; or `launch`, a compiled binary in a directory of its own.
 */
function startDev(extra: string[] = [], launch?: { binary: string; cwd: string }): Dev {
  const devArgs = ["--state-dir", stateDir, ...extra];
  const [cmd, args] = launch ? [launch.binary, ["dev", ...devArgs]] : runtime === "bun" ? ["npm", ["run", "dev", "--", ...devArgs]] : runtimeCommand("cli/main.ts", ["dev", ...devArgs]);
  const child = spawn(cmd, args, { cwd: launch?.cwd ?? repoRoot, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  const lines: string[] = [];
  let partial = "";
  const onData = (d: Buffer) => {
    const parts = (partial + d.toString()).split("\n");
    partial = parts.pop()!;
    lines.push(...parts);
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise((r) => child.on("exit", r));
  const dev: Dev = {
    child, lines, exited,
    async waitFor(re, ms) {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = lines.find((l) => re.test(l));
        if (found) return found;
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no line matching ${re}; output:\n${lines.join("\n")}\n${partial}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
  running.push(dev);
  return dev;
}

/** Alive and not a zombie. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** The pids ambit dev reports: itself and every child, from the table and dev.json (which must agree). */
function startedPids(dev: Dev): number[] {
  const recorded = JSON.parse(fs.readFileSync(path.join(stateDir, "dev.json"), "utf8")) as { pid: number; processes: { name: string; pid: number }[] };
  const table = dev.lines.filter((l) => /^(controlplane|ztunnel|app)\s/.test(l)).map((l) => Number(l.trim().split(/\s+/).pop()));
  assert.deepEqual(table.sort(), recorded.processes.map((p) => p.pid).sort());
  return [recorded.pid, ...table];
}

/** Ctrl-C as a terminal sends it (to the whole group); every pid must be gone soon after. */
async function interrupt(dev: Dev, pids: number[]): Promise<void> {
  process.kill(-dev.child.pid!, "SIGINT");
  await dev.waitFor(/^stopped; state kept in /, 20_000);
  await dev.exited;
  const deadline = Date.now() + 10_000;
  while (pids.some(isRunning) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(pids.filter(isRunning), [], `still running after Ctrl-C:\n${dev.lines.join("\n")}`);
  assert.ok(!fs.existsSync(path.join(stateDir, "dev.json")));
}

const ambit = (args: string[], input?: string) => {
  const [cmd, argv] = runtimeCommand("cli/main.ts", args);
  return runCommand(cmd, argv, { cwd: repoRoot, input, env: { NO_COLOR: "1" } });
};
const userPolicy = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-port-9999, namespace: demo}
spec:
  selector: {matchLabels: {app: hello}}
  action: DENY
  rules: [{to: [{operation: {ports: ["9999"]}}]}]
`;

test(`${runtime === "bun" ? "npm run dev" : "deno run cli/main.ts dev"}: ready line, the printed curl and ambit commands work, Ctrl-C leaves no process behind`, async () => {
  const dev = startDev();
  await dev.waitFor(READY, 120_000);
  const tries = dev.lines.slice(dev.lines.indexOf("Try:") + 1).filter((l) => l.startsWith("  ")).map((l) => l.trim());
  const curl = tries.find((t) => t.startsWith("curl "))!;
  const inspect = tries.find((t) => !t.startsWith("curl "))!;
  assert.equal(curl, "curl --socks5-hostname 127.0.20.1:15080 http://hello.demo.svc.cluster.local/");
  const answers = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const r = await runCommand("sh", ["-c", `${curl} -sS --max-time 10`]);
    assert.equal(r.code, 0, r.stderr);
    answers.add(r.stdout);
  }
  assert.deepEqual([...answers].sort(), ["hello from v1 on node-a\n", "hello from v2 on node-b\n"]);

  assert.match(inspect, runtime === "bun" ? /^npx ambit / : /^deno task ambit /);
  const shown = await runCommand("sh", ["-c", inspect], { cwd: repoRoot, env: { PATH, NO_COLOR: "1" } });
  assert.equal(shown.code, 0, shown.stderr);
  for (const name of ["client", "hello-v1", "hello-v2"]) assert.match(shown.stdout, new RegExp(`^demo\\s+${name}\\s+127\\.0\\.20\\.\\d\\s+node-[ab]\\s`, "m"));
  for (const node of ["node-a", "node-b"]) assert.match(shown.stdout, new RegExp(`\\s${node}\\s`));

  // Changes a user makes: a policy of their own, and an edit to a sample object.
  assert.equal((await ambit(["apply", "-f", "-"], userPolicy)).code, 0);
  const sample = fs.readFileSync(path.join(repoRoot, "samples", "demo.yaml"), "utf8")
    .replace("principals: [cluster.local/ns/demo/sa/client]", "principals: [cluster.local/ns/demo/sa/client, cluster.local/ns/demo/sa/hello]");
  const edited = await ambit(["apply", "-f", "-"], sample);
  assert.match(edited.stdout, /^AuthorizationPolicy demo\/hello-allow-client configured$/m);

  await interrupt(dev, [dev.child.pid!, ...startedPids(dev)]);
}, { timeout: 180_000 });

test("a restart keeps what was applied before: the user's policy and the edited sample", async () => {
  const dev = startDev();
  await dev.waitFor(READY, 120_000);
  assert.ok(dev.lines.some((l) => /samples\/demo\.yaml: 8 already in the store, kept as they are/.test(l)), dev.lines.join("\n"));
  const policies = JSON.parse((await ambit(["get", "ap", "-n", "demo", "-o", "json"])).stdout).items as { metadata: { name: string }; spec: any }[];
  assert.deepEqual(policies.map((p) => p.metadata.name).sort(), ["deny-port-9999", "hello-allow-client"]);
  assert.equal(policies.find((p) => p.metadata.name === "hello-allow-client")!.spec.rules[0].from[0].source.principals.length, 2);
  // The edit is in force: hello may now call hello.
  const r = await runCommand("curl", ["-sS", "--max-time", "10", "--socks5-hostname", "127.0.20.2:15080", "http://hello.demo.svc.cluster.local/"]);
  assert.match(r.stdout, /^hello from v[12] on node-[ab]\n$/, r.stderr);
  await interrupt(dev, [dev.child.pid!, ...startedPids(dev)]);
}, { timeout: 180_000 });

test("--reset re-applies the samples over edits and keeps other objects; --nodes 3 runs a third ztunnel", async () => {
  const dev = startDev(["--reset", "--nodes", "3"]);
  await dev.waitFor(READY, 120_000);
  assert.ok(dev.lines.some((l) => /samples\/demo\.yaml: 1 reset/.test(l)), dev.lines.join("\n"));
  const sample = JSON.parse((await ambit(["get", "ap", "hello-allow-client", "-n", "demo", "-o", "json"])).stdout);
  assert.deepEqual(sample.spec.rules[0].from[0].source.principals, ["cluster.local/ns/demo/sa/client"]);
  assert.equal((await ambit(["get", "ap", "deny-port-9999", "-n", "demo"])).code, 0);
  const status = JSON.parse((await ambit(["proxy-status", "-o", "json"])).stdout) as { node: { nodeName: string }; connected: boolean }[];
  assert.deepEqual(status.filter((s) => s.connected).map((s) => s.node.nodeName), ["node-a", "node-b", "node-c"]);
  await interrupt(dev, [dev.child.pid!, ...startedPids(dev)]);
}, { timeout: 180_000 });

// The compiled CLI carries the samples inside it: run from an empty directory,
// with only the other binaries beside it, it starts the whole demo. (Once, on
// Bun: the binary is the same whichever runtime runs the suite.)
if (runtime === "bun") {
  test("dist/ambit dev from an empty directory: samples embedded, the demo answers, Ctrl-C leaves no process behind", async () => {
    const { paths } = ensureBinaries(["ambit", "controlplane", "ztunnel"]);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-empty-"));
    try {
      const dev = startDev(["--reset"], { binary: paths.ambit!, cwd: empty });
      await dev.waitFor(READY, 60_000);
      const answers = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const r = await runCommand("curl", ["-sS", "--max-time", "10", "--socks5-hostname", "127.0.20.1:15080", "http://hello.demo.svc.cluster.local/"]);
        assert.equal(r.code, 0, r.stderr);
        answers.add(r.stdout);
      }
      assert.deepEqual([...answers].sort(), ["hello from v1 on node-a\n", "hello from v2 on node-b\n"]);
      const called = await runCommand("curl", ["-sS", "--max-time", "10", "http://127.0.20.1:8080/call"]);
      assert.match(called.stdout, /^hello from v[12] on node-[ab]\n$/);
      await interrupt(dev, [dev.child.pid!, ...startedPids(dev)]);
      assert.deepEqual(fs.readdirSync(empty), [], "nothing written outside --state-dir");
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  }, { timeout: 120_000 });
}
