// The controlplane API before authentication, as an attacker on the network
// sees it: a real controlplane process over TLS. A request is judged by its
// head before its body is read; bodies, streams per connection and connections
// per peer are bounded; a silent partition (simulated by SIGSTOP, which keeps
// every socket open and answers nothing) is noticed on both sides within seconds.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http2 from "node:http2";
import { afterAll, runtime, startTestControlplane, startXdsMesh, test } from "../testing/mod.ts";

const KEEPALIVE_S = 0.5;
const cp = await startTestControlplane(["--xds-keepalive", String(KEEPALIVE_S)]);
const mesh = await startXdsMesh(cp, ["node-a"]);
afterAll(async () => {
  await mesh.stop();
  await cp.kill();
});
const caPem = fs.readFileSync(cp.rootCertFile, "utf8");
const adminToken = fs.readFileSync(`${cp.stateDir}/admin-token`, "utf8").trim();

/** A raw HTTP/2 session, so the test controls exactly how much body it sends. */
function session(to: { url: string; ca: string } = { url: cp.url, ca: caPem }): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(to.url, { ca: to.ca, checkServerIdentity: () => undefined } as http2.SecureClientSessionOptions);
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

/**
 * Sends the head of a request announcing `declared` bytes and one small chunk,
 * never the rest; resolves with the status and how many body bytes were sent.
 */
async function headOnly(path: string, headers: Record<string, string>, declared: number) {
  const s = await session();
  try {
    const stream = s.request({ ":method": "POST", ":path": path, "content-length": String(declared), "content-type": "application/json", ...headers }, { endStream: false });
    stream.write(Buffer.alloc(1024, 0x20));
    const status = await new Promise<number>((resolve, reject) => {
      stream.once("response", (h) => resolve(Number(h[":status"])));
      stream.once("error", reject);
    });
    const body = await new Promise<string>((resolve) => {
      let text = "";
      stream.on("data", (c: Buffer) => (text += c.toString()));
      stream.once("end", () => resolve(text));
      stream.once("close", () => resolve(text));
    });
    return { status, body };
  } finally {
    s.destroy();
  }
}

test("a request without credentials is refused from its headers: its body is never waited for", async () => {
  for (const path of ["/api/v1/apply", "/xds/v1/delta", "/ca/v1/certificates", "/nodes/v1/renew"]) {
    const r = await headOnly(path, {}, 100 * 1024 * 1024);
    assert.equal(r.status, 401, `${path}: ${r.status} ${r.body}`);
  }
  const join = await headOnly("/nodes/v1/join", { authorization: "Bearer ambitjoin.node-a.not-the-secret-at-all" }, 100 * 1024 * 1024);
  assert.equal(join.status, 401);
  assert.match(join.body, /join token is required/);
});

test("an authenticated body is bounded per route: 413 from the declared length, before reading it", async () => {
  const big = await headOnly("/api/v1/apply", { authorization: `Bearer ${adminToken}` }, 9 * 1024 * 1024);
  assert.equal(big.status, 413);
  assert.match(big.body, /larger than 8388608 bytes/);
  const token = await headOnly("/api/v1/nodes/x/token", { authorization: `Bearer ${adminToken}` }, 65 * 1024);
  assert.equal(token.status, 413);
});

// On Deno, tearing down these 65 client sessions has killed the Deno test process itself (SIGSEGV, no message;
// denoland/deno#36788 "exits 139 and prints nothing"), in 2 of 3 full runs: it cannot be an expected failure, as
// the crash takes the runner with it. The server-side limit is Ambit's own code, the same on both runtimes.
const streamLimits = "one connection may open at most 100 streams at once; one peer at most 64 connections";
if (runtime === "deno") test(`${streamLimits} [not run on Deno: denoland/deno#36788 crashes the test process]`, () => {});
else test(streamLimits, async () => {
  const s = await session();
  await new Promise<void>((r) => (s.remoteSettings.maxConcurrentStreams === 100 ? r() : s.once("remoteSettings", () => r())));
  assert.equal(s.remoteSettings.maxConcurrentStreams, 100);
  // Beyond the advertised limit, the server refuses the stream itself (not every client runtime holds back).
  const open = Array.from({ length: 101 }, () => {
    const st = s.request({ ":method": "GET", ":path": "/healthz/ready" }, { endStream: false });
    st.on("error", () => {});
    return new Promise<number>((resolve) => {
      st.once("response", (h) => resolve(Number(h[":status"])));
      st.once("close", () => resolve(st.rstCode ?? -1));
    });
  });
  const outcomes = await Promise.all(open.slice(0, 100));
  assert.ok(outcomes.every((o) => o === 200), JSON.stringify(outcomes));
  const sessions = [s];
  for (let i = 1; i < 64; i++) sessions.push(await session());
  const extra = http2.connect(cp.url, { ca: caPem, checkServerIdentity: () => undefined } as http2.SecureClientSessionOptions);
  extra.on("error", () => {});
  await new Promise<void>((r) => extra.once("close", () => r()));
  for (const x of sessions) x.destroy();
  // Once they are gone, the peer may connect again.
  const again = await session();
  again.destroy();
});

const raisedLimit = "--max-connections-per-peer 3 (nodes behind one NAT address): a fourth connection is closed, three are served";
if (runtime === "deno") test(`${raisedLimit} [not run on Deno: denoland/deno#36788 crashes the test process]`, () => {});
else test(raisedLimit, async () => {
  const natted = await startTestControlplane(["--max-connections-per-peer", "3"]);
  const ca = fs.readFileSync(natted.rootCertFile, "utf8");
  try {
    const sessions = await Promise.all([1, 2, 3].map(() => session({ url: natted.url, ca })));
    const statuses = await Promise.all(sessions.map((s) => new Promise<number>((resolve) => {
      s.request({ ":method": "GET", ":path": "/healthz/ready" }).once("response", (h) => resolve(Number(h[":status"]))).resume();
    })));
    assert.deepEqual(statuses, [200, 200, 200]);
    const extra = http2.connect(natted.url, { ca, checkServerIdentity: () => undefined } as http2.SecureClientSessionOptions);
    extra.on("error", () => {});
    await new Promise<void>((r) => extra.once("close", () => r()));
    for (const s of sessions) s.destroy();
  } finally {
    await natted.kill();
  }
});

test("a silent partition is noticed on both sides within seconds: the node says it is not synced, proxy-status says disconnected", async () => {
  const node = mesh.nodes["node-a"]!;
  const readiness = () => fetch(`http://${node.address}:15021/healthz/ready`).then((r) => r.text());
  assert.equal(await readiness(), "ready\n");
  let lastProxies: unknown;
  const proxies = async () => (lastProxies = (await cp.admin.json<{ proxies: { node: { nodeName: string }; connected: boolean }[] }>("GET", "/api/v1/proxy-status", undefined, { authorization: `Bearer ${adminToken}` })).proxies) as { node: { nodeName: string }; connected: boolean }[];
  const until = async (what: string, f: () => Promise<boolean>, ms: number) => {
    const start = Date.now();
    while (!(await f().catch(() => false))) {
      if (Date.now() - start > ms) throw new Error(`${what}: not within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return Date.now() - start;
  };
  // The controlplane goes silent: the node notices within 3 keepalives.
  cp.proc.kill("SIGSTOP");
  try {
    const took = await until("node reports not synced", async () => /^ready; not synced/.test(await readiness()), 3 * KEEPALIVE_S * 1000 + 2000);
    assert.ok(took < 4000, `${took} ms`);
  } finally {
    cp.proc.kill("SIGCONT");
  }
  await until("node back in sync", async () => (await readiness()) === "ready\n", 15_000);
  // The node goes silent: the controlplane notices within 2 PING intervals.
  node.proc.kill("SIGSTOP");
  try {
    await until("proxy-status shows the stream disconnected", async () => (await proxies()).filter((p) => p.node.nodeName === "node-a").every((p) => !p.connected), 2 * KEEPALIVE_S * 1000 + 2000);
  } finally {
    node.proc.kill("SIGCONT");
  }
  await until("node reconnected", async () => (await proxies()).some((p) => p.node.nodeName === "node-a" && p.connected), 15_000)
    .catch((e) => { throw new Error(`${e.message}; proxy-status and node-a's last lines:\n${JSON.stringify(lastProxies)}\n${node.proc.lines.slice(-25).join("\n")}\ncontrolplane:\n${cp.proc.lines.slice(-15).join("\n")}`); });
});
