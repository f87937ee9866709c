// Hostile SOCKS5 input to a real ztunnel: a corpus of malformed handshakes on a
// workload's :15080, each refused precisely (the right SOCKS reply code, or a
// clean close) while the listener keeps carrying traffic.
import * as assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as net from "node:net";
import { afterAll, exchange, socksConnect, test } from "../testing/mod.ts";
import { startEchoMesh, within } from "../testing/echo_mesh.ts";

const { ip, a, b, sleepSocks, alive, assertEchoes, stop } = await startEchoMesh();
afterAll(stop);


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
