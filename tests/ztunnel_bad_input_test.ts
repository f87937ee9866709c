// Hostile and broken input to two real ztunnel processes: a corpus of malformed
// SOCKS5 handshakes on a workload's :15080, and a run of invalid local config
// files written over the live one. Each is refused precisely (the right SOCKS
// reply code, or a rejection log line naming file, object and field) while the
// last good state keeps carrying traffic. Then a valid edit and SIGHUP apply
// without a restart.
import * as assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as net from "node:net";
import { stringify } from "yaml";
import {
  afterAll, exchange, loopbackAddress, service, socksConnect, startEchoServer, startMesh, test, type TestNode, type TestProcess, workload,
} from "../testing/mod.ts";

const ip = { sleep: loopbackAddress(), echo: loopbackAddress() };
const vip = "10.96.0.10";
const ECHO_HOST = "echo.default.svc.cluster.local";

// The good config: every invalid variant below is this with exactly one thing wrong.
// The policy denies only sources that never occur here (TEST-NET-1, a principal
// nobody has), so it is live in every check and blocks nothing.
const good = {
  workloads: [
    workload({ name: "sleep", ip: ip.sleep, node: "node-a" }),
    workload({ name: "echo", ip: ip.echo, node: "node-b", services: { [`default/${ECHO_HOST}`]: { 80: 9000 } } }),
  ],
  services: [service({ name: "echo", vip, ports: { 80: 9000 } })],
  policies: [{
    name: "deny-nothing",
    namespace: "default",
    scope: "Namespace",
    action: "Deny",
    rules: [
      [[{ sourceIps: ["192.0.2.0/24"] as unknown[] }]],
      [[{ principals: [{ Exact: "cluster.local/ns/default/sa/nobody" }] as unknown[] }]],
    ],
  }],
};
// deno-lint-ignore no-explicit-any
type Loose = any;
/** The good config with one edit applied (to a deep copy). */
const variant = (edit: (c: Loose) => void): typeof good => {
  const c = structuredClone(good);
  edit(c);
  return c;
};

const echo = await startEchoServer(ip.echo, 9000);
const mesh = await startMesh(["node-a", "node-b"], good);
const a = mesh.nodes["node-a"]!;
const b = mesh.nodes["node-b"]!;
afterAll(async () => {
  await mesh.stop();
  await echo.close();
});

const sleepSocks = { address: ip.sleep, port: 15080 };

/** Rejects if `p` has not settled within `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** SOCKS CONNECT from the node-a client workload, then 64 KiB through and back. */
async function assertEchoes(label: string, host = ECHO_HOST, port = 80): Promise<void> {
  const r = await socksConnect(sleepSocks, host, port, 5_000);
  assert.ok(r.ok, `${label}: SOCKS CONNECT to ${host}:${port} refused (${!r.ok && r.reply})`);
  const res = await within(exchange(r.socket, 64 * 1024), 5_000, `${label}: echo through ${host}:${port}`);
  assert.equal(res.received, 64 * 1024, `${label}: echoed byte count`);
  assert.equal(res.receivedSha256, res.sentSha256, `${label}: echoed bytes differ`);
}

/** Waits for a line matching `re` among those the process printed after index `from`. */
async function waitForNewLine(node: TestNode, from: number, re: RegExp, timeoutMs = 5_000): Promise<string> {
  const proc: TestProcess = node.proc;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = proc.lines.slice(from).find((l) => re.test(l));
    if (hit) return hit;
    if (!alive(node)) throw new Error(`${node.name} exited (${proc.child.exitCode ?? proc.child.signalCode}) waiting for ${re}; output:\n${proc.lines.slice(from).join("\n")}`);
    if (Date.now() > deadline) throw new Error(`${node.name}: no line matching ${re} within ${timeoutMs} ms; new output:\n${proc.lines.slice(from).join("\n")}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// Exit as observed by the 'exit' event: Deno's child_process sets signalCode as
// soon as kill() is called, even when the child handles the signal and lives on.
const exited = new Set<string>();
for (const node of [a, b]) void node.proc.exited.then(() => exited.add(node.name));
const alive = (node: TestNode) => !exited.has(node.name);

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

// ---------------------------------------------------------------------------
// 1. Malformed SOCKS5
// ---------------------------------------------------------------------------

interface Probe {
  /** Every byte the server sent. */
  readonly received: Buffer;
  /** The server closed (FIN or reset) before the deadline. */
  readonly closed: boolean;
  /** A FIN arrived (as opposed to only a reset). */
  readonly ended: boolean;
  readonly error?: string;
  readonly ms: number;
}

/**
 * Sends `greeting`; when `request` is given, sends it once the server selects
 * "no authentication". `fin` half-closes after the last write. Gives up after
 * `waitMs` (the server's handshake timeout is 10 s, far beyond it).
 */
function probe(c: { greeting: Uint8Array; request?: Uint8Array; fin?: boolean }, waitMs: number): Promise<Probe> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const socket = net.connect({ host: ip.sleep, port: 15080 });
    let received = Buffer.alloc(0);
    let ended = false;
    let error: string | undefined;
    let requested = false;
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ received, closed, ended, error, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on("data", (d: Buffer) => {
      received = Buffer.concat([received, d]);
      if (c.request && !requested && received.length >= 2 && received[0] === 5 && received[1] === 0) {
        requested = true;
        socket.write(c.request);
        if (c.fin) socket.end();
      }
    });
    socket.on("end", () => (ended = true));
    socket.on("error", (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.on("close", () => finish(true));
    socket.on("connect", () => {
      socket.write(c.greeting);
      if (!c.request && c.fin) socket.end();
    });
  });
}

const NO_AUTH = Uint8Array.of(5, 1, 0);
const u16 = (n: number) => [n >> 8, n & 0xff];
const v4 = (address: string) => address.split(".").map(Number);
/** A request: version 5, command, reserved, then an address type and its bytes. */
const req = (o: { ver?: number; cmd?: number; rsv?: number; atyp: number; addr: number[]; port: number }) =>
  Uint8Array.of(o.ver ?? 5, o.cmd ?? 1, o.rsv ?? 0, o.atyp, ...o.addr, ...u16(o.port));
const domain = (bytes: number[] | Uint8Array, port: number) => req({ atyp: 3, addr: [bytes.length & 0xff, ...bytes], port });
const ascii = (s: string) => [...Buffer.from(s, "latin1")];

/** 1 MiB of random bytes whose first byte is fixed, so the outcome is deterministic. */
const burst = (first: number) => {
  const bytes = randomBytes(1024 * 1024);
  bytes[0] = first;
  return bytes;
};

type Expect =
  | { kind: "silent-close" } // the server closes without sending a byte
  | { kind: "method"; method: number } // [5, method], then close
  | { kind: "reply"; code: number } // [5, 0] then a 10-byte reply with `code`, then close
  | { kind: "open" }; // nothing sent, still open when the client gives up

interface SocksCase {
  readonly name: string;
  readonly greeting: Uint8Array;
  readonly request?: Uint8Array;
  readonly fin?: boolean;
  readonly expect: Expect;
  /** A reset instead of a FIN is fine (the server closes with our unread bytes queued). */
  readonly resetOk?: boolean;
}

const SOCKS_CASES: SocksCase[] = [
  { name: "truncated greeting (version byte only), then FIN", greeting: Uint8Array.of(5), fin: true, expect: { kind: "silent-close" } },
  { name: "truncated greeting (3 methods announced, 1 sent), then FIN", greeting: Uint8Array.of(5, 3, 0), fin: true, expect: { kind: "silent-close" } },
  { name: "SOCKS4 CONNECT (version 4 greeting)", greeting: Uint8Array.of(4, 1, ...u16(9000), ...v4(ip.echo), 0), expect: { kind: "silent-close" } },
  { name: "version 0 greeting", greeting: Uint8Array.of(0, 1, 0), expect: { kind: "silent-close" } },
  { name: "greeting with zero methods", greeting: Uint8Array.of(5, 0), expect: { kind: "silent-close" } },
  { name: "greeting offering only username/password (0x02)", greeting: Uint8Array.of(5, 1, 2), expect: { kind: "method", method: 0xff } },
  { name: "greeting offering GSSAPI and username/password", greeting: Uint8Array.of(5, 2, 1, 2), expect: { kind: "method", method: 0xff } },
  { name: "greeting with 255 methods, none of them no-auth", greeting: Uint8Array.of(5, 255, ...Array.from({ length: 255 }, (_, i) => i + 1)), expect: { kind: "method", method: 0xff } },
  { name: "truncated request (IPv4 address cut short), then FIN", greeting: NO_AUTH, request: Uint8Array.of(5, 1, 0, 1, 127, 0), fin: true, expect: { kind: "method", method: 0 } },
  { name: "truncated request (IPv6 address cut short), then FIN", greeting: NO_AUTH, request: Uint8Array.of(5, 1, 0, 4, 0, 0, 0, 0), fin: true, expect: { kind: "method", method: 0 } },
  { name: "request with version 4", greeting: NO_AUTH, request: req({ ver: 4, atyp: 1, addr: v4(ip.echo), port: 9000 }), expect: { kind: "reply", code: 1 } },
  { name: "request with a non-zero reserved byte", greeting: NO_AUTH, request: req({ rsv: 1, atyp: 1, addr: v4(ip.echo), port: 9000 }), expect: { kind: "reply", code: 1 } },
  { name: "BIND (command 2)", greeting: NO_AUTH, request: req({ cmd: 2, atyp: 1, addr: v4(ip.echo), port: 9000 }), expect: { kind: "reply", code: 7 } },
  { name: "UDP ASSOCIATE (command 3)", greeting: NO_AUTH, request: req({ cmd: 3, atyp: 1, addr: v4(ip.echo), port: 9000 }), expect: { kind: "reply", code: 7 } },
  { name: "command 0", greeting: NO_AUTH, request: req({ cmd: 0, atyp: 1, addr: v4(ip.echo), port: 9000 }), expect: { kind: "reply", code: 7 } },
  { name: "address type 2", greeting: NO_AUTH, request: req({ atyp: 2, addr: v4(ip.echo), port: 9000 }), expect: { kind: "reply", code: 8 } },
  { name: "address type 5", greeting: NO_AUTH, request: req({ atyp: 5, addr: v4(ip.echo), port: 9000 }), expect: { kind: "reply", code: 8 } },
  { name: "zero-length domain name", greeting: NO_AUTH, request: domain([], 80), expect: { kind: "reply", code: 4 } },
  { name: "255-byte domain name", greeting: NO_AUTH, request: domain(ascii(`${"a".repeat(63)}.`.repeat(4).slice(0, 255)), 80), expect: { kind: "reply", code: 4 } },
  { name: "domain name with a space", greeting: NO_AUTH, request: domain(ascii("echo default.svc.cluster.local"), 80), expect: { kind: "reply", code: 4 } },
  { name: "domain name with non-ASCII bytes (UTF-8 é)", greeting: NO_AUTH, request: domain([...Buffer.from("éch0.default.svc.cluster.local", "utf8")], 80), expect: { kind: "reply", code: 4 } },
  { name: "domain name with a NUL byte", greeting: NO_AUTH, request: domain([...ascii("echo"), 0, ...ascii(".default")], 80), expect: { kind: "reply", code: 4 } },
  { name: "domain name with invalid UTF-8 (0xff 0xfe)", greeting: NO_AUTH, request: domain([0xff, 0xfe, ...ascii(".default")], 80), expect: { kind: "reply", code: 4 } },
  { name: "unknown host no-such-host.invalid", greeting: NO_AUTH, request: domain(ascii("no-such-host.invalid"), 80), expect: { kind: "reply", code: 4 } },
  { name: "port 0", greeting: NO_AUTH, request: req({ atyp: 1, addr: v4(ip.echo), port: 0 }), expect: { kind: "reply", code: 4 } },
  { name: "destination port 15008 (HBONE: would loop)", greeting: NO_AUTH, request: req({ atyp: 1, addr: v4(ip.echo), port: 15008 }), expect: { kind: "reply", code: 2 } },
  { name: "destination port 15001 (would loop)", greeting: NO_AUTH, request: req({ atyp: 1, addr: v4(ip.echo), port: 15001 }), expect: { kind: "reply", code: 2 } },
  { name: "destination port 15006 (would loop)", greeting: NO_AUTH, request: req({ atyp: 1, addr: v4(ip.echo), port: 15006 }), expect: { kind: "reply", code: 2 } },
  { name: "IPv6 ::1 port 15008 (would loop)", greeting: NO_AUTH, request: req({ atyp: 4, addr: [...Array(15).fill(0), 1], port: 15008 }), expect: { kind: "reply", code: 2 } },
  { name: "garbage: an HTTP request instead of SOCKS", greeting: Uint8Array.from(Buffer.from("GET / HTTP/1.1\r\nHost: echo\r\n\r\n")), expect: { kind: "silent-close" } },
  { name: "garbage: a TLS ClientHello record header", greeting: Uint8Array.of(0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03), expect: { kind: "silent-close" } },
  { name: "a client that connects and sends nothing (still open after 300 ms, not answered)", greeting: new Uint8Array(0), expect: { kind: "open" } },
  { name: "1 MiB of random bytes as the greeting", greeting: burst(0x16), expect: { kind: "silent-close" }, resetOk: true },
  { name: "valid greeting, then 1 MiB of random bytes as the request", greeting: NO_AUTH, request: burst(0x00), expect: { kind: "reply", code: 1 }, resetOk: true },
];

test(`${SOCKS_CASES.length} malformed SOCKS5 handshakes each get the right refusal or a clean close; the listener keeps serving`, async () => {
  const t0 = Date.now();
  const errorsBefore = a.proc.lines.length;
  const failures: string[] = [];
  for (const c of SOCKS_CASES) {
    const e = c.expect;
    const r = await probe(c, e.kind === "open" ? 300 : 3_000);
    const got = `got [${[...r.received.subarray(0, 16)].join(",")}]${r.received.length > 16 ? `…(${r.received.length} bytes)` : ""}, closed=${r.closed}, fin=${r.ended}, error=${r.error ?? "none"} after ${r.ms} ms`;
    try {
      if (e.kind === "open") {
        assert.equal(r.received.length, 0, "the server sent bytes to a client that said nothing");
        assert.equal(r.closed, false, "the server closed a silent client long before its 10 s handshake timeout");
        continue;
      }
      assert.ok(r.closed, "the server did not close the connection within 3 s");
      if (!c.resetOk) {
        assert.ok(r.ended, "the server reset the connection instead of closing it cleanly");
        assert.equal(r.error, undefined, "socket error");
      }
      if (e.kind === "silent-close") assert.deepEqual([...r.received], [], "expected no reply bytes");
      if (e.kind === "method") assert.deepEqual([...r.received], [5, e.method], "expected exactly the method selection");
      if (e.kind === "reply") {
        assert.deepEqual([...r.received.subarray(0, 2)], [5, 0], "method selection");
        assert.equal(r.received.length, 12, "method selection plus one 10-byte reply");
        assert.equal(r.received[2], 5, "reply version");
        assert.equal(r.received[3], e.code, `reply code: want ${e.code}, got ${r.received[3]}`);
      }
    } catch (err) {
      failures.push(`${c.name}: ${(err as Error).message} (${got})`);
    }
  }
  assert.deepEqual(failures, [], `SOCKS corpus failures:\n${failures.join("\n")}`);

  // Still serving: a normal CONNECT through the same listener to the node-b echo workload.
  const r = await socksConnect(sleepSocks, ip.echo, 9000, 5_000);
  assert.ok(r.ok, `normal CONNECT after the corpus refused (${!r.ok && r.reply})`);
  const res = await within(exchange(r.socket, 256 * 1024), 5_000, "echo after the corpus");
  assert.equal(res.receivedSha256, res.sentSha256);
  await assertEchoes("after the SOCKS corpus");
  assert.ok(alive(a) && alive(b), "a ztunnel exited");
  const errors = a.proc.lines.slice(errorsBefore).filter((l) => /\terror\t/.test(l));
  assert.deepEqual(errors, [], "node-a logged errors while refusing malformed SOCKS5");
  console.error(`SOCKS corpus: ${SOCKS_CASES.length} cases in ${Date.now() - t0} ms`);
});

// ---------------------------------------------------------------------------
// 2. Invalid config files over the live one
// ---------------------------------------------------------------------------

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
