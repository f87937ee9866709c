// `ambit dev` as a new user meets it: `npm run dev` (on Bun; on Deno the same
// CLI under `deno run`, so the whole mesh runs on Deno) in its own process
// group, as a terminal runs it; wait for the ready line; run the two printed
// commands; Ctrl-C (SIGINT to the group); check by pid that nothing it started
// is left. Then restarts on the same state. Dev mode uses fixed addresses
// (127.0.0.1:15010/15012, 127.0.10.x, 127.0.20.x), so these tests stay in this
// one file and run one after another. Debian's prometheus is installed for the
// suite (scripts/test_packages.txt), so dev mode starts a real one; it is checked
// to scrape every proxy `up` and to stop on Ctrl-C with the rest.
import * as assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { ensureBinaries } from "../testing/binaries.ts";
import { afterAll, repoRoot, runCommand, runtime, runtimeCommand, socksConnect, test, until } from "../testing/mod.ts";

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
async function startDev(extra: string[] = [], launch?: { binary: string; cwd: string }): Promise<Dev> {
  // A test that failed before its Ctrl-C leaves its mesh running: kill it (its children
  // are in its group; the next run ends any other leftover from dev.json), so the next test starts clean.
  for (const d of running) {
    if (d.child.exitCode !== null || d.child.signalCode !== null) continue;
    process.kill(-d.child.pid!, "SIGKILL");
    await d.exited;
  }
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

/**
 * The pids ambit dev reports: itself and every child, from the table and dev.json
 * (which must agree once the "<name> restarted (pid N)" lines are applied to the table).
 * On Bun no child may have crashed. On Deno a child can die of denoland/deno#36788
 * (nghttp2's find_stream_on_goaway_func assertion, or a bare SIGSEGV, when a peer
 * closes an HTTP/2 session); dev mode restarts it, which is what is checked there.
 */
function startedPids(dev: Dev): number[] {
  const recorded = JSON.parse(fs.readFileSync(path.join(stateDir, "dev.json"), "utf8")) as { pid: number; processes: { name: string; pid: number }[] };
  const current = new Map<string, number>();
  const restarted: string[] = [];
  for (const line of dev.lines) {
    const row = /^(?:controlplane|ztunnel|app|prometheus)\s+(\S+)\s.*\s(\d+)$/.exec(line);
    if (row) current.set(row[1]!, Number(row[2]));
    const restart = /^(\S+) restarted \(pid (\d+)\)$/.exec(line);
    if (restart && current.has(restart[1]!)) current.set(restart[1]!, Number(restart[2])), restarted.push(restart[1]!);
  }
  const crashes = dev.lines.filter((l) => /^error: \S+ \S+ exited \(/.test(l));
  if (runtime === "bun") assert.deepEqual(crashes, [], dev.lines.join("\n"));
  else for (const c of crashes) assert.match(c, /exited \((SIGSEGV|SIGABRT)\)/, `not the known Deno crash (denoland/deno#36788):\n${dev.lines.join("\n")}`);
  // Waypoints come and go with their Gateways: dev.json follows them, the table shows the first ones.
  const waypoints = recorded.processes.filter((p) => p.name.startsWith("waypoint-"));
  assert.ok(waypoints.length > 0, "no waypoint recorded");
  const table = [...current.values()];
  assert.deepEqual(table.sort(), recorded.processes.filter((p) => !waypoints.includes(p)).map((p) => p.pid).sort(), `restarted: ${restarted.join(", ")}`);
  return [recorded.pid, ...table, ...waypoints.map((p) => p.pid)];
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
  const dev = await startDev();
  await dev.waitFor(READY, 120_000);
  const tries = dev.lines.slice(dev.lines.indexOf("Try:") + 1).filter((l) => l.startsWith("  ")).map((l) => l.trim());
  const curl = tries.find((t) => t.startsWith("curl "))!;
  const inspect = tries.find((t) => !t.startsWith("curl "))!;
  assert.equal(curl, `curl -x "$(cat ${path.join(stateDir, "socks", "demo", "client")})" http://hello.demo.svc.cluster.local/`);
  const answers = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const r = await runCommand("sh", ["-c", `${curl} -sS --max-time 10`]);
    assert.equal(r.code, 0, r.stderr);
    answers.add(r.stdout);
  }
  assert.deepEqual([...answers].sort(), ["hello from v1 on node-a\n", "hello from v2 on node-b\n"]);
  await assertOnlyTheClientSpeaksAsItself();
  await assertPrometheusScrapesTheMesh(dev);

  assert.match(inspect, runtime === "bun" ? /^npx ambit / : /^deno task ambit /);
  const shown = await runCommand("sh", ["-c", inspect], { cwd: repoRoot, env: { PATH, NO_COLOR: "1" } });
  assert.equal(shown.code, 0, shown.stderr);
  for (const name of ["client", "hello-v1", "hello-v2"]) assert.match(shown.stdout, new RegExp(`^demo\\s+${name}\\s+127\\.0\\.20\\.\\d\\s+node-[ab]\\s`, "m"));
  for (const node of ["node-a", "node-b"]) assert.match(shown.stdout, new RegExp(`\\s${node}\\s`));

  // The L7 demo: the printed curl with x-canary reaches v2 every time through the waypoint; without it, 90/10.
  const canaryCurl = tries.find((t) => t.includes("x-canary"))!;
  assert.equal(canaryCurl, `curl -x "$(cat ${path.join(stateDir, "socks", "demo", "client")})" -H 'x-canary: true' http://hello-l7.demo.svc.cluster.local/`);
  for (let i = 0; i < 5; i++) {
    const r = await runCommand("sh", ["-c", `${canaryCurl} -sS --max-time 10`]);
    assert.equal(r.stdout, "hello from v2 on node-b\n", r.stderr);
  }
  const split = new Map<string, number>();
  for (let i = 0; i < 60; i++) {
    const r = await runCommand("sh", ["-c", `${curl.replace("hello.demo", "hello-l7.demo")} -sS --max-time 10`]);
    assert.equal(r.code, 0, r.stderr);
    split.set(r.stdout, (split.get(r.stdout) ?? 0) + 1);
  }
  assert.ok((split.get("hello from v1 on node-a\n") ?? 0) >= 45, JSON.stringify([...split]));
  // Deleting the waypoint Gateway stops its process.
  assert.equal((await ambit(["delete", "gateway", "waypoint", "-n", "demo"])).code, 0);
  await dev.waitFor(/waypoint demo\/waypoint deleted: its process stopped/, 20_000);
  assert.equal((await ambit(["apply", "-f", "-"], fs.readFileSync(path.join(repoRoot, "samples", "demo.yaml"), "utf8"))).code, 0);
  // Re-applied, it starts again: a second "ready" line (the first was at start).
  const readyLines = () => dev.lines.filter((l) => /^waypoint demo\/waypoint ready on 127\.0\.30\.1/.test(l)).length;
  for (const deadline = Date.now() + 30_000; readyLines() < 2;) {
    assert.ok(Date.now() < deadline, `the waypoint did not start again:\n${dev.lines.join("\n")}`);
    await new Promise((r) => setTimeout(r, 50));
  }

  // Changes a user makes: a policy of their own, and an edit to a sample object.
  assert.equal((await ambit(["apply", "-f", "-"], userPolicy)).code, 0);
  const sample = fs.readFileSync(path.join(repoRoot, "samples", "demo.yaml"), "utf8")
    .replace("principals: [cluster.local/ns/demo/sa/client, cluster.local/ns/demo/sa/waypoint]", "principals: [cluster.local/ns/demo/sa/client, cluster.local/ns/demo/sa/waypoint, cluster.local/ns/demo/sa/hello]");
  const edited = await ambit(["apply", "-f", "-"], sample);
  assert.match(edited.stdout, /^AuthorizationPolicy demo\/hello-allow-client configured$/m);

  await interrupt(dev, [dev.child.pid!, ...startedPids(dev)]);
}, { timeout: 180_000 });

/**
 * The client app calls through the mesh with its own credentials; nobody borrows
 * hello-v2's identity: not with the client's credentials on hello-v2's SOCKS5, not
 * without any, not through the client's SOCKS5 to hello-v2's, not with a PROXY
 * header naming 15080 on a plaintext port.
 */
async function assertOnlyTheClientSpeaksAsItself(): Promise<void> {
  const called = await fetch("http://127.0.20.1:8080/call?url=http://hello.demo.svc.cluster.local/");
  assert.equal(called.status, 200, await called.clone().text());
  assert.match(await called.text(), /^hello from v[12] on node-[ab]\n$/);
  const own = new URL(fs.readFileSync(path.join(stateDir, "socks", "demo", "client"), "utf8").trim());
  const clientAuth = { username: own.username, password: decodeURIComponent(own.password) };
  const helloV2 = { address: "127.0.20.3", port: 15080 };
  assert.deepEqual(await socksConnect({ ...helloV2, auth: clientAuth }, "hello.demo.svc.cluster.local", 80), { ok: false, reply: "auth" });
  assert.deepEqual(await socksConnect({ ...helloV2, auth: { ...clientAuth, username: "hello-v2" } }, "hello.demo.svc.cluster.local", 80), { ok: false, reply: "auth" });
  assert.deepEqual(await socksConnect({ ...helloV2, auth: "none" }, "hello.demo.svc.cluster.local", 80), { ok: false, reply: 0xff });
  assert.deepEqual(await socksConnect({ address: "127.0.20.1", port: 15080, auth: clientAuth }, "127.0.20.3", 15080), { ok: false, reply: 2 });
  // On the client: no policy selects it, so only the self-call guard stands between the header and its SOCKS5.
  const proxied = await sendAndRead({ address: "127.0.20.1", port: 15006 }, "PROXY TCP4 127.0.20.2 127.0.20.1 40000 15080\r\n\x05\x01\x00");
  assert.deepEqual(proxied, { received: 0, closed: true });
}

/**
 * Dev mode's Prometheus: in the table and the summary, and it found every ztunnel, the waypoint and the
 * controlplane through the controlplane's http_sd list and scrapes them `up`; its data is in the state dir.
 * The service graph beside it draws the client's edge to hello from the mesh's own metrics.
 */
async function assertPrometheusScrapesTheMesh(dev: Dev): Promise<void> {
  assert.ok(dev.lines.some((l) => /^prometheus\s+prometheus\s+-\s+http:\/\/127\.0\.0\.1:9090 .*\s\d+$/.test(l)), dev.lines.join("\n"));
  assert.ok(dev.lines.includes(`Service graph: http://127.0.0.1:20001/ (${runtime === "bun" ? "npx ambit" : "deno task ambit"} dashboard)`), dev.lines.join("\n"));
  const pods = await until("prometheus targets up", async () => {
    const body = await (await fetch("http://127.0.0.1:9090/api/v1/targets")).json() as { data: { activeTargets: { health: string; lastError: string; labels: Record<string, string> }[] } };
    const t = body.data.activeTargets;
    const summary = JSON.stringify(t.map((x) => [x.labels.pod, x.health, x.lastError]));
    if (t.length !== 4 || t.some((x) => x.health !== "up")) return summary;
    return t.map((x) => x.labels.pod!.replace(/^waypoint-.*/, "waypoint")).sort();
  }, 30_000);
  assert.deepEqual(pods, ["istiod-ambit", "waypoint", "ztunnel-node-a", "ztunnel-node-b"]);
  assert.ok(fs.existsSync(path.join(stateDir, "prometheus")), "Prometheus keeps its data in the state dir");
  // Rates need traffic between two of the graph's scrapes (every 5 s): a request each round.
  const client = fs.readFileSync(path.join(stateDir, "socks", "demo", "client"), "utf8").trim();
  await until("the service graph's edge client → hello", async () => {
    await runCommand("curl", ["-sS", "--max-time", "10", "-o", "/dev/null", "-x", client, "http://hello.demo.svc.cluster.local/"]);
    const graph = await (await fetch("http://127.0.0.1:20001/api/graph")).json() as { edges: { source: string; target: string; bytesPerSecond: number }[] };
    return graph.edges.some((e) => e.source === "workload:demo/client" && e.target === "service:hello.demo.svc.cluster.local" && e.bytesPerSecond > 0) || JSON.stringify(graph.edges);
  }, 20_000);
}

/** Sends `text` and waits for the server to close: how many bytes came back. */
function sendAndRead(to: { address: string; port: number }, text: string): Promise<{ received: number; closed: boolean }> {
  return new Promise((resolve) => {
    let received = 0;
    const socket = net.connect(to.port, to.address, () => socket.write(text));
    const timer = setTimeout(() => (socket.destroy(), resolve({ received, closed: false })), 5_000);
    socket.on("data", (d: Buffer) => (received += d.length));
    socket.on("error", () => {});
    socket.on("close", () => (clearTimeout(timer), resolve({ received, closed: true })));
  });
}

test("a restart keeps what was applied before: the user's policy and the edited sample", async () => {
  const dev = await startDev();
  await dev.waitFor(READY, 120_000);
  assert.ok(dev.lines.some((l) => /samples\/demo\.yaml: 13 already in the store, kept as they are/.test(l)), dev.lines.join("\n"));
  const policies = JSON.parse((await ambit(["get", "ap", "-n", "demo", "-o", "json"])).stdout).items as { metadata: { name: string }; spec: any }[];
  assert.deepEqual(policies.map((p) => p.metadata.name).sort(), ["deny-port-9999", "hello-allow-client"]);
  assert.equal(policies.find((p) => p.metadata.name === "hello-allow-client")!.spec.rules[0].from[0].source.principals.length, 3);
  // The edit is in force: hello may now call hello.
  const helloV1 = fs.readFileSync(path.join(stateDir, "socks", "demo", "hello-v1"), "utf8").trim();
  const r = await runCommand("curl", ["-sS", "--max-time", "10", "-x", helloV1, "http://hello.demo.svc.cluster.local/"]);
  assert.match(r.stdout, /^hello from v[12] on node-[ab]\n$/, r.stderr);
  await interrupt(dev, [dev.child.pid!, ...startedPids(dev)]);
}, { timeout: 180_000 });

test("--reset re-applies the samples over edits and keeps other objects; --nodes 3 runs a third ztunnel", async () => {
  const dev = await startDev(["--reset", "--nodes", "3"]);
  await dev.waitFor(READY, 120_000);
  assert.ok(dev.lines.some((l) => /samples\/demo\.yaml: 1 reset/.test(l)), dev.lines.join("\n"));
  const sample = JSON.parse((await ambit(["get", "ap", "hello-allow-client", "-n", "demo", "-o", "json"])).stdout);
  assert.deepEqual(sample.spec.rules[0].from[0].source.principals, ["cluster.local/ns/demo/sa/client", "cluster.local/ns/demo/sa/waypoint"]);
  assert.equal((await ambit(["get", "ap", "deny-port-9999", "-n", "demo"])).code, 0);
  const status = JSON.parse((await ambit(["proxy-status", "-o", "json"])).stdout) as { node: { nodeName: string }; connected: boolean }[];
  // proxy-status covers the waypoint too (its node name is <ns>.<name>).
  assert.deepEqual(status.filter((s) => s.connected).map((s) => s.node.nodeName).sort(), ["demo.waypoint", "node-a", "node-b", "node-c"]);
  await interrupt(dev, [dev.child.pid!, ...startedPids(dev)]);
}, { timeout: 180_000 });

test("kill -9 of the controlplane: the crash is shown, curls through the mesh keep working, it comes back by itself with what was applied", async () => {
  const dev = await startDev();
  await dev.waitFor(READY, 120_000);
  const survivor = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: survivor, namespace: demo}\n";
  assert.equal((await ambit(["apply", "-f", "-"], survivor)).code, 0);
  const recorded = () => JSON.parse(fs.readFileSync(path.join(stateDir, "dev.json"), "utf8")) as { processes: { name: string; pid: number }[] };
  const pidOf = (name: string) => recorded().processes.find((p) => p.name === name)!.pid;
  const crashed = pidOf("controlplane");
  process.kill(crashed, "SIGKILL");
  await dev.waitFor(/controlplane controlplane exited \(SIGKILL\)/, 10_000);
  await dev.waitFor(/restarting controlplane in 1 s; the data plane keeps serving/, 5_000);
  const client = fs.readFileSync(path.join(stateDir, "socks", "demo", "client"), "utf8").trim();
  const curl = () => runCommand("curl", ["-sS", "--max-time", "10", "-x", client, "http://hello.demo.svc.cluster.local/"]);
  for (let i = 0; i < 3; i++) {
    const r = await curl();
    assert.match(r.stdout, /^hello from v[12] on node-[ab]\n$/, r.stderr);
  }
  await dev.waitFor(/^controlplane restarted \(pid \d+\)$/, 30_000);
  const deadline = Date.now() + 30_000;
  let got = await ambit(["get", "sa", "survivor", "-n", "demo"]);
  while (got.code !== 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    got = await ambit(["get", "sa", "survivor", "-n", "demo"]);
  }
  assert.equal(got.code, 0, got.stderr);
  assert.notEqual(pidOf("controlplane"), crashed);
  assert.match((await curl()).stdout, /^hello from v[12] on node-[ab]\n$/);
  assert.equal(dev.child.exitCode, null, "ambit dev is still running");
  await interrupt(dev, [dev.child.pid!, ...recorded().processes.map((p) => p.pid)]);
}, { timeout: 180_000 });

// The compiled CLI carries the samples inside it: run from an empty directory,
// with only the other binaries beside it, it starts the whole demo. (Once, on
// Bun: the binary is the same whichever runtime runs the suite.)
if (runtime === "bun") {
  test("dist/ambit dev from an empty directory: samples embedded, the demo answers, Ctrl-C leaves no process behind", async () => {
    const { paths } = ensureBinaries(["ambit", "controlplane", "ztunnel"]);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-empty-"));
    try {
      const dev = await startDev(["--reset"], { binary: paths.ambit!, cwd: empty });
      await dev.waitFor(READY, 60_000);
      const answers = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const r = await runCommand("curl", ["-sS", "--max-time", "10", "-x", fs.readFileSync(path.join(stateDir, "socks", "demo", "client"), "utf8").trim(), "http://hello.demo.svc.cluster.local/"]);
        assert.equal(r.code, 0, r.stderr);
        answers.add(r.stdout);
      }
      assert.deepEqual([...answers].sort(), ["hello from v1 on node-a\n", "hello from v2 on node-b\n"]);
      const called = await runCommand("curl", ["-sS", "--max-time", "10", "http://127.0.20.1:8080/call?url=http://hello.demo.svc.cluster.local/"]);
      assert.match(called.stdout, /^hello from v[12] on node-[ab]\n$/);
      await interrupt(dev, [dev.child.pid!, ...startedPids(dev)]);
      assert.deepEqual(fs.readdirSync(empty), [], "nothing written outside --state-dir");
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  }, { timeout: 120_000 });
}
