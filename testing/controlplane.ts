import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Http2Client } from "../runtime/http2_client.ts";
import { runtime } from "./harness.ts";
import { loopbackAddress } from "./loopback.ts";
import { testNode, waitReady, type TestNode } from "./mesh.ts";
import { runCommand, startProcess, type TestProcess } from "./processes.ts";
import { repoRoot, runtimeCommand } from "./runtime_command.ts";
import { registerSocksCredentials } from "./socks_credentials.ts";

/** A controlplane process started for a test, with an admin client. */
export interface TestControlplane {
  readonly address: string;
  readonly url: string;
  readonly stateDir: string;
  readonly rootCertFile: string;
  proc: TestProcess;
  /** Admin client (bearer token) on the TLS endpoint. */
  admin: Http2Client;
  /** POSTs YAML to /api/v1/apply as the admin; returns status and JSON body. */
  apply(yaml: string, file?: string, query?: string): Promise<{ status: number; body: any }>;
  del(yaml: string): Promise<{ status: number; body: any }>;
  token(node: string): Promise<string>;
  /** Kills it (SIGKILL by default) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same address and state directory. */
  restart(): Promise<void>;
  /**
   * Runs `ambit <args>` against it as the admin (TLS, its CA, the admin token). On Deno
   * only, a call that failed because the controlplane was down after denoland/deno#36788
   * (see {@link isDenoHttp2Abort}) is run once more after its restart, and says so:
   * the crash is upstream's, the call is the test's.
   */
  cli(args: string[], options?: { input?: string; cwd?: string; auth?: string[] }): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Starts a controlplane on its own loopback address with a fresh (or given) state directory. */
export async function startTestControlplane(extraArgs: string[] = [], stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-cp-"))): Promise<TestControlplane> {
  const address = loopbackAddress();
  const url = `https://${address}:15012`;
  let stopping = false;
  const launch = async () => {
    const [cmd, args] = runtimeCommand("controlplane/main.ts", ["--state-dir", stateDir, "--listen", `${address}:15012`, ...extraArgs]);
    const proc = startProcess(cmd, args);
    await proc.waitForLine(/controlplane\tready/, 20_000);
    // A controlplane that dies under a test makes every later request "unreachable": say so, with its last words.
    void proc.exited.then((code) => {
      if (stopping) return;
      if (isDenoHttp2Abort(proc)) {
        // Deno's nghttp2 aborts a server when a client closes its session in the wrong moment (an upstream bug,
        // not Ambit's): restart it on the same address and state, as its supervisor (systemd, Kubernetes) would.
        console.warn(`known upstream bug denoland/deno#36788: test controlplane ${address}:15012 aborted in nghttp2; restarting it`);
        knownCrashes++;
        relaunched = relaunch();
        return;
      }
      console.error(`test controlplane ${address}:15012 exited unexpectedly (${code ?? proc.child.signalCode}); its last lines:\n${proc.lines.slice(-30).join("\n")}`);
    });
    return proc;
  };
  let relaunch = async () => {};
  // Each known-bug restart: its number and when its controlplane was ready again.
  let knownCrashes = 0;
  let relaunched: Promise<void> = Promise.resolve();
  const proc = await launch();
  const rootCertFile = path.join(stateDir, "ca", "root-cert.pem");
  const adminClient = () =>
    new Http2Client(url, {
      ca: fs.readFileSync(rootCertFile, "utf8"),
      checkServerIdentity: () => undefined,
    });
  const adminToken = () => fs.readFileSync(path.join(stateDir, "admin-token"), "utf8").trim();
  const send = async (p: string, yaml: string, file: string) => {
    const res = await cp.admin.request("POST", p, { body: yaml, headers: { authorization: `Bearer ${adminToken()}`, "content-type": "application/yaml", "x-ambit-filename": file }, timeoutMs: 30_000 });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const cp: TestControlplane = {
    address,
    url,
    stateDir,
    rootCertFile,
    proc,
    admin: adminClient(),
    apply: (yaml, file = "test.yaml", query = "") => send(`/api/v1/apply${query}`, yaml, file),
    del: (yaml) => send("/api/v1/delete", yaml, "test.yaml"),
    token: async (node) => (await cp.admin.json<{ token: string }>("POST", `/api/v1/nodes/${node}/token`, {}, { authorization: `Bearer ${adminToken()}` })).token,
    kill: async (signal = "SIGKILL") => {
      stopping = true;
      cp.proc.kill(signal);
      await cp.proc.exited;
      cp.admin.close();
    },
    restart: async () => {
      stopping = false;
      cp.proc = await launch();
      cp.admin = adminClient();
    },
    cli: async (args, options = {}) => {
      const auth = options.auth ?? ["--controlplane", url, "--token-file", path.join(stateDir, "admin-token"), "--controlplane-ca", rootCertFile];
      const run = () => {
        const [cmd, argv] = runtimeCommand("cli/main.ts", [...args, ...auth]);
        return runCommand(cmd, argv, { cwd: options.cwd ?? repoRoot, env: { NO_COLOR: "1" }, input: options.input });
      };
      await relaunched; // a call never starts while a known-bug restart is under way
      const crashesBefore = knownCrashes;
      const procAtStart = cp.proc;
      const result = await run();
      if (result.code === 0 || runtime !== "deno") return result;
      if (procAtStart.child.exitCode !== null || procAtStart.child.signalCode !== null) await procAtStart.exited;
      if (knownCrashes === crashesBefore) return result;
      await relaunched;
      console.warn(`known upstream bug denoland/deno#36788: \`ambit ${args.join(" ")}\` ran while the controlplane restarted; running it again`);
      return run();
    },
  };
  relaunch = async () => {
    cp.proc = await launch();
    cp.admin.close();
    cp.admin = adminClient();
  };
  return cp;
}

/**
 * Starts ztunnels that join `cp` with fresh join tokens; `controlplaneFor`
 * gives a node another --controlplane (a list of HA replicas).
 */
export async function startXdsMesh(
  cp: TestControlplane, nodeNames: string[], extraArgs: string[] = [], controlplaneFor: (node: string) => string = () => cp.url,
): Promise<{ nodes: Record<string, TestNode>; socksDir: string; stop(): Promise<void> }> {
  const nodes: Record<string, TestNode> = {};
  const socksDir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-socks-"));
  const forgetCredentials = registerSocksCredentials(socksDir);
  for (const name of nodeNames) {
    const address = loopbackAddress();
    const token = await cp.token(name);
    const [cmd, args] = runtimeCommand("ztunnel/main.ts", [
      "--node", name, "--address", address, "--controlplane", controlplaneFor(name), "--join-token", token, "--controlplane-ca", cp.rootCertFile,
      "--socks-credentials-dir", socksDir, ...extraArgs,
    ]);
    nodes[name] = testNode(name, address, startProcess(cmd, args));
  }
  await Promise.all(Object.values(nodes).map((n) => waitReady(n)));
  return {
    nodes,
    socksDir,
    stop: async () => {
      forgetCredentials();
      for (const n of Object.values(nodes)) n.proc.kill("SIGKILL");
      await Promise.all(Object.values(nodes).map((n) => n.proc.exited));
    },
  };
}

/**
 * The Deno runtime's own abort inside nghttp2 (denoland/deno#36788): its assertion
 * message, or (as the bug also shows) a bare SIGABRT/SIGSEGV of a Deno process.
 */
function isDenoHttp2Abort(proc: TestProcess): boolean {
  if (runtime !== "deno") return false;
  const signal = proc.child.signalCode;
  const code = proc.child.exitCode;
  return proc.lines.some((l) => l.includes("nghttp2_session.c") && l.includes("find_stream_on_goaway_func")) ||
    signal === "SIGABRT" || signal === "SIGSEGV" || code === 134 || code === 139;
}
