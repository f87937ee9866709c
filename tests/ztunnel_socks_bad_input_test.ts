// Hostile SOCKS5 input to a real ztunnel: a corpus of malformed handshakes on a
// workload's :15080, each refused precisely (the right SOCKS reply code, or a
// clean close) while the listener keeps carrying traffic. The probes authenticate
// as the workload (RFC 1929, its credentials file) unless a case says otherwise.
import * as assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as net from "node:net";
import { afterAll, exchange, socksConnect, socksCredentialsAt, test } from "../testing/mod.ts";
import { startEchoMesh, within } from "../testing/echo_mesh.ts";

const { ip, a, b, sleepSocks, alive, assertEchoes, stop } = await startEchoMesh();
afterAll(stop);

const userPass = (user: string, pass: string) => Uint8Array.of(1, user.length, ...Buffer.from(user), pass.length, ...Buffer.from(pass));
const own = socksCredentialsAt(sleepSocks)!;
/** The sleep workload's own username/password sub-negotiation. */
const SLEEP_CREDENTIALS = userPass(own.username, own.password);


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
 * Sends `greeting`; once the server selects username/password, sends
 * `credentials` (the workload's own by default); when `request` is given,
 * sends it once the server accepts them. `fin` half-closes after the last
 * write. Gives up after `waitMs` (the server's handshake timeout is 10 s, far beyond it).
 */
function probe(c: { greeting: Uint8Array; credentials?: Uint8Array; request?: Uint8Array; fin?: boolean }, waitMs: number): Promise<Probe> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const socket = net.connect({ host: ip.sleep, port: 15080 });
    let received = Buffer.alloc(0);
    let ended = false;
    let error: string | undefined;
    let requested = false;
    let authenticated = false;
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
      if (!authenticated && received.length >= 2 && received[0] === 5 && received[1] === 2) {
        authenticated = true;
        socket.write(c.credentials ?? SLEEP_CREDENTIALS);
        if (!c.request && c.fin) socket.end();
      }
      if (c.request && !requested && received.length >= 4 && received[2] === 1 && received[3] === 0) {
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
      if (!c.request && !c.credentials && c.fin) socket.end();
    });
  });
}

const NO_AUTH = Uint8Array.of(5, 1, 0);
const AUTH = Uint8Array.of(5, 1, 2);
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
  | { kind: "auth"; status: number } // [5, 2], then the username/password status [1, status], then close
  | { kind: "reply"; code: number } // [5, 2], [1, 0], then a 10-byte reply with `code`, then close
  | { kind: "open" }; // nothing sent, still open when the client gives up

interface SocksCase {
  readonly name: string;
  readonly greeting: Uint8Array;
  /** The username/password sub-negotiation, when not the workload's own. */
  readonly credentials?: Uint8Array;
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
  { name: "greeting offering only no-auth (0x00): the workload must authenticate", greeting: NO_AUTH, expect: { kind: "method", method: 0xff } },
  { name: "greeting offering GSSAPI only", greeting: Uint8Array.of(5, 1, 1), expect: { kind: "method", method: 0xff } },
  { name: "greeting with 254 methods, none of them username/password", greeting: Uint8Array.of(5, 254, 0, 1, ...Array.from({ length: 252 }, (_, i) => i + 3)), expect: { kind: "method", method: 0xff } },
  { name: "username/password of another workload (node-b's echo)", greeting: AUTH, credentials: userPass("echo", own.password), expect: { kind: "auth", status: 1 } },
  { name: "the workload's name with a wrong password", greeting: AUTH, credentials: userPass(own.username, `${own.password.slice(0, -1)}x`), expect: { kind: "auth", status: 1 } },
  { name: "username/password sub-negotiation with version 5", greeting: AUTH, credentials: Uint8Array.of(5, 1, 0x61, 1, 0x62), expect: { kind: "method", method: 2 } },
  { name: "username/password with an empty password", greeting: AUTH, credentials: Uint8Array.of(1, 1, 0x61, 0), expect: { kind: "method", method: 2 } },
  { name: "truncated username/password, then FIN", greeting: AUTH, credentials: Uint8Array.of(1, 40, 0x61), fin: true, expect: { kind: "method", method: 2 } },
  { name: "truncated request (IPv4 address cut short), then FIN", greeting: AUTH, request: Uint8Array.of(5, 1, 0, 1, 127, 0), fin: true, expect: { kind: "auth", status: 0 } },
  { name: "truncated request (IPv6 address cut short), then FIN", greeting: AUTH, request: Uint8Array.of(5, 1, 0, 4, 0, 0, 0, 0), fin: true, expect: { kind: "auth", status: 0 } },
  { name: "request with version 4", greeting: AUTH, request: req({ ver: 4, atyp: 1, addr: v4(ip.echo), port: 9000 }), expect: { kind: "reply", code: 1 } },
  { name: "request with a non-zero reserved byte", greeting: AUTH, request: req({ rsv: 1, atyp: 1, addr: v4(ip.echo), port: 9000 }), expect: { kind: "reply", code: 1 } },
  { name: "BIND (command 2)", greeting: AUTH, request: req({ cmd: 2, atyp: 1, addr: v4(ip.echo), port: 9000 }), expect: { kind: "reply", code: 7 } },
  { name: "UDP ASSOCIATE (command 3)", greeting: AUTH, request: req({ cmd: 3, atyp: 1, addr: v4(ip.echo), port: 9000 }), expect: { kind: "reply", code: 7 } },
  { name: "command 0", greeting: AUTH, request: req({ cmd: 0, atyp: 1, addr: v4(ip.echo), port: 9000 }), expect: { kind: "reply", code: 7 } },
  { name: "address type 2", greeting: AUTH, request: req({ atyp: 2, addr: v4(ip.echo), port: 9000 }), expect: { kind: "reply", code: 8 } },
  { name: "address type 5", greeting: AUTH, request: req({ atyp: 5, addr: v4(ip.echo), port: 9000 }), expect: { kind: "reply", code: 8 } },
  { name: "zero-length domain name", greeting: AUTH, request: domain([], 80), expect: { kind: "reply", code: 4 } },
  { name: "255-byte domain name", greeting: AUTH, request: domain(ascii(`${"a".repeat(63)}.`.repeat(4).slice(0, 255)), 80), expect: { kind: "reply", code: 4 } },
  { name: "domain name with a space", greeting: AUTH, request: domain(ascii("echo default.svc.cluster.local"), 80), expect: { kind: "reply", code: 4 } },
  { name: "domain name with non-ASCII bytes (UTF-8 é)", greeting: AUTH, request: domain([...Buffer.from("éch0.default.svc.cluster.local", "utf8")], 80), expect: { kind: "reply", code: 4 } },
  { name: "domain name with a NUL byte", greeting: AUTH, request: domain([...ascii("echo"), 0, ...ascii(".default")], 80), expect: { kind: "reply", code: 4 } },
  { name: "domain name with invalid UTF-8 (0xff 0xfe)", greeting: AUTH, request: domain([0xff, 0xfe, ...ascii(".default")], 80), expect: { kind: "reply", code: 4 } },
  { name: "unknown host no-such-host.invalid", greeting: AUTH, request: domain(ascii("no-such-host.invalid"), 80), expect: { kind: "reply", code: 4 } },
  { name: "port 0", greeting: AUTH, request: req({ atyp: 1, addr: v4(ip.echo), port: 0 }), expect: { kind: "reply", code: 4 } },
  ...[15000, 15020, 15021, 15053, 15080].map((port) => ({ name: `destination port ${port} (the ztunnel's own: self-call)`, greeting: AUTH, request: req({ atyp: 1, addr: v4(ip.echo), port }), expect: { kind: "reply" as const, code: 2 } })),
  { name: "destination port 15008 (HBONE: would loop)", greeting: AUTH, request: req({ atyp: 1, addr: v4(ip.echo), port: 15008 }), expect: { kind: "reply", code: 2 } },
  { name: "destination port 15001 (would loop)", greeting: AUTH, request: req({ atyp: 1, addr: v4(ip.echo), port: 15001 }), expect: { kind: "reply", code: 2 } },
  { name: "destination port 15006 (would loop)", greeting: AUTH, request: req({ atyp: 1, addr: v4(ip.echo), port: 15006 }), expect: { kind: "reply", code: 2 } },
  { name: "IPv6 ::1 port 15008 (would loop)", greeting: AUTH, request: req({ atyp: 4, addr: [...Array(15).fill(0), 1], port: 15008 }), expect: { kind: "reply", code: 2 } },
  { name: "garbage: an HTTP request instead of SOCKS", greeting: Uint8Array.from(Buffer.from("GET / HTTP/1.1\r\nHost: echo\r\n\r\n")), expect: { kind: "silent-close" } },
  { name: "garbage: a TLS ClientHello record header", greeting: Uint8Array.of(0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03), expect: { kind: "silent-close" } },
  { name: "a client that connects and sends nothing (still open after 300 ms, not answered)", greeting: new Uint8Array(0), expect: { kind: "open" } },
  { name: "1 MiB of random bytes as the greeting", greeting: burst(0x16), expect: { kind: "silent-close" }, resetOk: true },
  { name: "valid greeting, then 1 MiB of random bytes as the request", greeting: AUTH, request: burst(0x00), expect: { kind: "reply", code: 1 }, resetOk: true },
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
      if (e.kind === "auth") assert.deepEqual([...r.received], [5, 2, 1, e.status], "expected the method selection and the username/password status");
      if (e.kind === "reply") {
        assert.deepEqual([...r.received.subarray(0, 4)], [5, 2, 1, 0], "method selection and username/password accepted");
        assert.equal(r.received.length, 14, "method selection, status, plus one 10-byte reply");
        assert.equal(r.received[4], 5, "reply version");
        assert.equal(r.received[5], e.code, `reply code: want ${e.code}, got ${r.received[5]}`);
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
