// Broken config files written over a live ztunnel's: each is refused with a
// rejection naming file, object and field while the last good state keeps
// carrying traffic. Then a valid edit and SIGHUP apply without a restart.
import * as assert from "node:assert/strict";
import { stringify } from "yaml";
import { afterAll, service, socksConnect, test, type TestNode } from "../testing/mod.ts";
import { ECHO_HOST, ECHO_VIP, startEchoMesh, within } from "../testing/echo_mesh.ts";

const { ip, good, mesh, a, b, sleepSocks, alive, assertEchoes, waitForNewLine, stop } = await startEchoMesh();
afterAll(stop);
const vip = ECHO_VIP;

// Every invalid variant below is the good config with exactly one thing wrong.
// deno-lint-ignore no-explicit-any
type Loose = any;
/** The good config with one edit applied (to a deep copy). */
const variant = (edit: (c: Loose) => void): typeof good => {
  const c = structuredClone(good);
  edit(c);
  return c;
};

interface ConfigDump {
  config: { kind: string; path?: string; lastError?: string; loadedAt?: string };
  workloads: { name: string; namespace: string; addresses: string[] }[];
  services: { namespace: string; hostname: string }[];
  policies: { namespace: string; name: string }[];
}
const configDump = async (node: TestNode): Promise<ConfigDump> => (await node.admin("/config_dump")).json() as Promise<ConfigDump>;
const workloadsOf = (d: ConfigDump) => d.workloads.map((w) => `${w.namespace}/${w.name}@${w.addresses.join(",")}`).sort();
const servicesOf = (d: ConfigDump) => d.services.map((s) => `${s.namespace}/${s.hostname}`).sort();
const GOOD_WORKLOADS = [`default/echo@${ip.echo}`, `default/sleep@${ip.sleep}`];


interface BadConfig {
  readonly name: string;
  readonly config: unknown;
  /** `Kind namespace/name`, when the problem is inside one object. */
  readonly object?: string;
  /** Field path, when there is one. */
  readonly field?: string;
  /** The problem's message (after `file: object: field: `). */
  readonly message: RegExp;
}

const levels = "abcdefghi".split("");
/** Billion laughs inside one field: nine levels of ten aliases each, 10^9 strings expanded. */
const aliasBomb = "[" + levels.map((l, i) => `&${l} [${Array(10).fill(i === 0 ? "lol" : `*${levels[i - 1]}`).join(", ")}]`).join(", ") + "]";

const BAD_CONFIGS: BadConfig[] = [
  {
    name: "YAML syntax error (unterminated quote)",
    config: stringify(good).replace("name: sleep", 'name: "sleep'),
    message: /^YAML: Missing closing "quote/,
  },
  { name: "YAML duplicate top-level key", config: stringify(good) + "services: []\n", message: /^YAML: Map keys must be unique/ },
  { name: "top level is a list, not a mapping", config: stringify([good]), message: /expected object, received array/ },
  { name: "unknown top-level key", config: variant((c) => (c.gateways = [])), message: /^unknown field "gateways"$/ },
  {
    name: "unknown workload field",
    config: variant((c) => (c.workloads[0].serviceAcount = "typo")),
    object: "Workload default/sleep",
    field: "workloads[0]",
    message: /^unknown field "serviceAcount"$/,
  },
  {
    name: "bad IP in workloadIps",
    config: variant((c) => (c.workloads[0].workloadIps = ["10.0.0.256"])),
    object: "Workload default/sleep",
    field: "workloads[0].workloadIps[0]",
    message: /^must be an IP address$/,
  },
  {
    name: "protocol HBONEX",
    config: variant((c) => (c.workloads[0].protocol = "HBONEX")),
    object: "Workload default/sleep",
    field: "workloads[0].protocol",
    message: /TCP.*HBONE/,
  },
  {
    name: "status Sick",
    config: variant((c) => (c.workloads[1].status = "Sick")),
    object: "Workload default/echo",
    field: "workloads[1].status",
    message: /Healthy.*Unhealthy/,
  },
  {
    name: 'vip without "/"',
    config: variant((c) => (c.services[0].vips = [vip])),
    object: "Service default/echo",
    field: "services[0].vips[0]",
    message: /must be "<network>\/<ip>"/,
  },
  {
    name: "service port key out of range (70000)",
    config: variant((c) => (c.services[0].ports = { 70000: 9000 })),
    object: "Service default/echo",
    field: "services[0].ports[70000]",
    message: /must be a number from 0 to 65535/,
  },
  {
    name: "workload service port value out of range (65536)",
    config: variant((c) => (c.workloads[1].services[`default/${ECHO_HOST}`] = { 80: 65536 })),
    object: "Workload default/echo",
    field: `workloads[1].services[default/${ECHO_HOST}][80]`,
    message: /65535/,
  },
  {
    name: "bad CIDR in a policy's sourceIps",
    config: variant((c) => (c.policies[0].rules[0][0][0].sourceIps = ["192.0.2.0/33"])),
    object: "Authorization default/deny-nothing",
    field: "policies[0].rules[0][0][0].sourceIps[0]",
    message: /must be a CIDR/,
  },
  {
    name: 'bare-string principal (principals: ["x"])',
    config: variant((c) => (c.policies[0].rules[1][0][0].principals = ["x"])),
    object: "Authorization default/deny-nothing",
    field: "policies[0].rules[1][0][0].principals[0]",
    message: /\{Exact: s\}/,
  },
  {
    name: "policy action Audit",
    config: variant((c) => (c.policies[0].action = "Audit")),
    object: "Authorization default/deny-nothing",
    field: "policies[0].action",
    message: /Allow.*Deny/,
  },
  {
    name: "duplicate workload uid",
    config: variant((c) => (c.workloads[1].uid = c.workloads[0].uid)),
    object: "Workload default/echo",
    field: "workloads[1].uid",
    message: /already used by Workload default\/sleep/,
  },
  {
    name: "duplicate address",
    config: variant((c) => (c.workloads[1].workloadIps = [ip.sleep])),
    object: "Workload default/echo",
    field: "workloads[1].workloadIps[0]",
    message: /already used by Workload default\/sleep/,
  },
  {
    name: 'workload services key without "/"',
    config: variant((c) => (c.workloads[1].services = { [ECHO_HOST]: { 80: 9000 } })),
    object: "Workload default/echo",
    field: `workloads[1].services[${ECHO_HOST}]`,
    message: /must be "<namespace>\/<hostname>"/,
  },
  {
    name: "alias bomb (billion laughs) in one field",
    config: stringify(variant((c) => (c.workloads[0].workloadName = "__BOMB__"))).replace("__BOMB__", aliasBomb),
    message: /^YAML: .*alias/i,
  },
  {
    name: "file over 16 MiB",
    config: stringify(good) + "# " + "x".repeat(17 * 1024 * 1024) + "\n",
    message: /larger than 16777216 bytes/,
  },
];

/** Waits for node's rejection line after `from`; returns its problems, one per line. */
async function rejection(node: TestNode, from: number, c: BadConfig): Promise<string[]> {
  const line = await waitForNewLine(node, from, /config rejected; keeping the last good state/);
  assert.match(line, /\terror\t/, `${c.name}: ${node.name} rejection is not logged at error level: ${line}`);
  const m = /\terror=(.*)$/.exec(line);
  assert.ok(m, `${c.name}: ${node.name} rejection line has no error=: ${line}`);
  const text = m[1]!.startsWith('"') ? JSON.parse(m[1]!) as string : m[1]!;
  return text.split("\n").map((l) => l.trim()).filter((l) => l && !/^\d+ problems:$/.test(l));
}

test(`${BAD_CONFIGS.length} invalid config files are each rejected with file, object and field; the last good state keeps serving`, async () => {
  const t0 = Date.now();
  const file = mesh.configFile;
  await assertEchoes("before any invalid config");
  const failures: string[] = [];
  for (const c of BAD_CONFIGS) {
    const prefix = [file, c.object, c.field].filter((x) => x).join(": ") + ": ";
    try {
      const from = { a: a.proc.lines.length, b: b.proc.lines.length };
      mesh.writeConfig(c.config);
      for (const node of [a, b]) {
        const problems = await rejection(node, node === a ? from.a : from.b, c);
        const hit = problems.find((p) => p.startsWith(prefix) && c.message.test(p.slice(prefix.length)));
        assert.ok(hit, `${node.name} logged no problem "${prefix}${c.message.source}"; it logged:\n  ${problems.join("\n  ")}`);
        if (!c.name.startsWith("YAML syntax")) assert.equal(problems.length, 1, `one thing is wrong, but ${node.name} reports ${problems.length} problems:\n  ${problems.join("\n  ")}`);
      }
      await assertEchoes(c.name);
      const dump = await configDump(a);
      assert.deepEqual(workloadsOf(dump), GOOD_WORKLOADS, "config_dump workloads are not the last good ones");
      assert.deepEqual(servicesOf(dump), [`default/${ECHO_HOST}`], "config_dump services are not the last good ones");
      assert.deepEqual(dump.policies.map((p) => `${p.namespace}/${p.name}`), ["default/deny-nothing"], "config_dump policies");
      assert.equal(dump.config.path, file);
      assert.ok(dump.config.lastError?.includes(prefix), `config_dump config.lastError does not name ${prefix}: ${dump.config.lastError}`);
      assert.ok(alive(a) && alive(b), "a ztunnel exited");
    } catch (err) {
      failures.push(`${c.name}: ${(err as Error).message}`);
    }
  }
  assert.deepEqual(failures, [], `invalid config failures:\n${failures.join("\n")}`);
  for (const node of [a, b]) {
    const r = await fetch(`http://${node.address}:15021/healthz/ready`);
    assert.equal(r.status, 200, `${node.name} not ready after the invalid configs: ${await r.text()}`);
  }
  console.error(`invalid configs: ${BAD_CONFIGS.length} cases in ${Date.now() - t0} ms`);
}, { timeout: 45_000 });

// ---------------------------------------------------------------------------
// 3. Valid changes apply live; SIGHUP re-reads
// ---------------------------------------------------------------------------

test("a valid change (a second service) applies without a restart; an open connection survives it", async () => {
  const t0 = Date.now();
  const pid = { a: a.proc.child.pid, b: b.proc.child.pid };
  const before = await socksConnect(sleepSocks, "echo2.default.svc.cluster.local", 81, 5_000);
  assert.deepEqual(before.ok ? "connected" : before.reply, 4, "echo2 resolved before it was configured");

  // A connection opened on the old state, used across the change.
  const held = await socksConnect(sleepSocks, ECHO_HOST, 80, 5_000);
  assert.ok(held.ok, "CONNECT for the long-lived connection refused");
  const roundTrip = (text: string) =>
    within(new Promise<string>((resolve) => {
      let got = "";
      const onData = (d: Buffer) => {
        got += d.toString();
        if (got.length >= text.length) (held.socket.off("data", onData), resolve(got));
      };
      held.socket.on("data", onData);
      held.socket.write(text);
    }), 5_000, "round trip on the held connection");
  assert.equal(await roundTrip("before the change"), "before the change");

  const from = { a: a.proc.lines.length, b: b.proc.lines.length };
  mesh.writeConfig(variant((c) => {
    c.services.push(service({ name: "echo2", vip: "10.96.0.11", ports: { 81: 9000 } }));
    c.workloads[1].services["default/echo2.default.svc.cluster.local"] = { 81: 9000 };
  }));
  await waitForNewLine(a, from.a, /state updated.*workloads=2 services=2 policies=1/);
  await waitForNewLine(b, from.b, /state updated.*workloads=2 services=2 policies=1/);
  await assertEchoes("the new service", "echo2.default.svc.cluster.local", 81);
  await assertEchoes("the old service after the change");
  assert.equal(await roundTrip("after the change"), "after the change");
  held.socket.destroy();

  const dump = await configDump(a);
  assert.deepEqual(servicesOf(dump), [`default/${ECHO_HOST}`, "default/echo2.default.svc.cluster.local"]);
  assert.equal(dump.config.lastError, undefined, "config.lastError is still set after a valid file");
  assert.deepEqual({ a: a.proc.child.pid, b: b.proc.child.pid }, pid);
  assert.ok(alive(a) && alive(b), "a ztunnel exited");
  console.error(`valid change: ${Date.now() - t0} ms`);
});

test("SIGHUP makes the ztunnel re-read its config file", async () => {
  const t0 = Date.now();
  const loaded = { a: (await configDump(a)).config.loadedAt, b: (await configDump(b)).config.loadedAt };
  assert.ok(loaded.a && loaded.b, "config.loadedAt missing");
  const from = { a: a.proc.lines.length, b: b.proc.lines.length };
  // process.kill, not a.proc.child.kill: on Deno, ChildProcess.kill() marks the
  // child killed and ignores every later kill(), so mesh.stop()'s SIGKILL would
  // be dropped and node-a would outlive the test.
  process.kill(a.proc.child.pid!, "SIGHUP");
  await waitForNewLine(a, from.a, /state updated.*workloads=2 services=2 policies=1/);
  const after = await configDump(a);
  assert.ok(after.config.loadedAt! > loaded.a!, `node-a loadedAt did not move: ${loaded.a} → ${after.config.loadedAt}`);
  // Only node-a was signalled and the file did not change: node-b did not reload.
  assert.equal((await configDump(b)).config.loadedAt, loaded.b, "node-b reloaded without a signal or a file change");
  assert.ok(!b.proc.lines.slice(from.b).some((l) => /state updated/.test(l)), "node-b reloaded without a signal or a file change");
  assert.ok(alive(a), "node-a exited on SIGHUP");
  await assertEchoes("after SIGHUP", "echo2.default.svc.cluster.local", 81);
  console.error(`SIGHUP: ${Date.now() - t0} ms`);
});

test("a YAML syntax error in the config names its line and column", async () => {
  const from = a.proc.lines.length;
  const c: BadConfig = { name: "YAML syntax error", config: stringify(good).replace("name: sleep", 'name: "sleep'), message: /^YAML: / };
  mesh.writeConfig(c.config);
  const problems = await rejection(a, from, c);
  assert.ok(problems.some((p) => p.startsWith(`${mesh.configFile}: YAML: `) && /line \d+, column \d+/.test(p)), `no line/column in:\n  ${problems.join("\n  ")}`);
  await assertEchoes("after the YAML syntax error");
});
