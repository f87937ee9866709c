// Every `ambit` command's --help, as the real CLI process prints it, mentions
// each of its flags; and the exit codes: 0 ok, 1 failure, 2 usage error.
import * as assert from "node:assert/strict";
import { COMMANDS } from "../cli/main.ts";
import { loopbackAddress, repoRoot, runCommand, runtimeCommand, test } from "../testing/mod.ts";

const ambit = (args: string[], input?: string) => {
  const [cmd, argv] = runtimeCommand("cli/main.ts", args);
  return runCommand(cmd, argv, { cwd: repoRoot, env: { NO_COLOR: "1", AMBIT_CONTROLPLANE: "" }, input });
};

// What each command must offer, written out here so a flag dropped from a table fails the test.
const REQUIRED: Record<string, string[]> = {
  dev: ["--nodes", "--no-samples", "--reset", "--state-dir", "--timeout"],
  apply: ["-f, --filename", "-n, --namespace", "--dry-run", "-o, --output", "--controlplane"],
  delete: ["-f, --filename", "-n, --namespace", "--dry-run", "--ignore-not-found", "--controlplane"],
  get: ["-n, --namespace", "-o, --output <table|json|yaml>", "--controlplane"],
  analyze: ["-f, --filename", "--trust-domain", "--root-namespace", "-o, --output"],
  "proxy-status": ["--all", "-o, --output", "--controlplane"],
  "ztunnel-config": ["--node", "--node-address", "--admin-port", "-n, --namespace", "-o, --output", "--controlplane"],
  node: ["-o, --output", "--controlplane", "--token-file", "--controlplane-ca"],
  capture: ["--admin-address", "--admin-port", "--table", "--fail <closed|open>", "--no-dns", "--ztunnel-uid", "--dry-run"],
  waypoint: ["-n, --namespace", "--name", "--for", "--enroll-namespace", "--wait", "--all", "-A, --all-namespaces", "-o, --output", "--controlplane"],
  version: ["--client", "--metrics-port", "-o, --output", "--controlplane"],
  dashboard: ["--url", "--no-open"],
};

test("ambit --help lists every command; no command is a usage error (exit 2)", async () => {
  const help = await ambit(["--help"]);
  assert.equal(help.code, 0);
  for (const c of COMMANDS) assert.match(help.stdout, new RegExp(`^  ${c.name} `, "m"));
  assert.deepEqual(COMMANDS.map((c) => c.name).sort(), Object.keys(REQUIRED).sort());
  const none = await ambit([]);
  assert.equal(none.code, 2);
});

for (const command of COMMANDS) {
  test(`ambit ${command.name} --help mentions every flag`, async () => {
    const r = await ambit([command.name, "--help"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Usage: ambit ${command.name}`));
    for (const f of REQUIRED[command.name]!) assert.ok(r.stdout.includes(f), `${command.name} --help lacks ${f}:\n${r.stdout}`);
    for (const f of command.flags) {
      assert.ok(r.stdout.includes(`--${f.name}`), `--${f.name} missing`);
      if (f.short) assert.ok(r.stdout.includes(`-${f.short}, --${f.name}`), `-${f.short} missing`);
    }
    assert.match(r.stdout, /-h, --help/);
  });
}

test("usage errors exit 2 and name the problem", async () => {
  const cases: [string[], RegExp][] = [
    [["frobnicate"], /unknown command "frobnicate"/],
    [["get", "--bogus"], /unknown flag --bogus/],
    [["get"], /usage: ambit get/],
    [["get", "widgets"], /unknown kind "widgets"/],
    [["get", "pods", "-o", "xml"], /--output: "xml" is not one of table, json, yaml/],
    [["apply"], /no input: pass -f/],
    [["delete", "pod"], /what to delete/],
    [["ztunnel-config", "routes"], /one of workloads, services, policies, certificates, connections, all/],
    [["node", "token", "mint", "x"], /usage: ambit node token create/],
    [["dev", "--nodes", "0"], /--nodes must be a whole number from 1 to 26/],
    [["get", "pods", "--controlplane", "ftp://x"], /must be http:\/\/host:port or https:\/\/host:port/],
  ];
  for (const [args, message] of cases) {
    const r = await ambit(args);
    assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}\n${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message, args.join(" "));
  }
});

test("a failure exits 1: nothing listens at --controlplane", async () => {
  const url = `http://${loopbackAddress()}:15010`;
  const r = await ambit(["get", "pods", "--controlplane", url]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`cannot reach the controlplane at ${url.replace(/\./g, "\\.")}`));
  assert.equal(r.stdout, "");
});

test("version --client needs no controlplane; -o json parses", async () => {
  const r = await ambit(["version", "--client", "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const v = JSON.parse(r.stdout);
  assert.match(v.client.version, /^\d+\.\d+\.\d+/);
  assert.equal(v.controlplane, undefined);
});
