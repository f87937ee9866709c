// Deno's plain-HTTP serving for the small surfaces (metrics, readiness, admin).
// Deno.serve (hyper) has no deadline for a request head and no cap on idle
// connections, and Deno's node:http ignores headersTimeout: a peer that drips a
// header byte a second, or opens connections and sends nothing, holds each one
// for ever, until the process runs out of descriptors and its data plane with it
// (tests/metrics_listener_hostile_test.ts). These surfaces answer one small
// request at a time, so this server is deliberately narrow: HTTP/1.1, one
// request per connection (`connection: close`, which Prometheus and fetch take
// as they take keep-alive), a head within 16 KiB and 100 headers, a body only
// with Content-Length and at most 1 MiB, and one deadline for the whole
// exchange. Bun.serve enforces its own head deadline and stays in use on Bun.
import { STATUS_TEXT } from "./_status_text.ts";
import type { HttpServer, ServeHttpOptions } from "./serve.ts";

declare const Deno: any;

/** The bounds {@link serveHttp1Deno} holds every connection to. */
export interface Http1Limits {
  /** From accept to the last response byte; a connection still open then is closed. Default 10 s. */
  readonly deadlineMs: number;
  readonly maxHeadBytes: number;
  readonly maxHeaders: number;
  readonly maxBodyBytes: number;
  /** Connections open at once; more are closed on accept. Default 4096. */
  readonly maxConnections: number;
}

export const DEFAULT_HTTP1_LIMITS: Http1Limits = { deadlineMs: 10_000, maxHeadBytes: 16 * 1024, maxHeaders: 100, maxBodyBytes: 1024 * 1024, maxConnections: 4096 };

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HOST = /^[A-Za-z0-9.\-_]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;
const NO_BODY_METHODS = new Set(["GET", "HEAD"]);
/** Methods the Fetch API will not construct a Request with; no route serves them. */
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

/** A refusal decided while reading the request. */
class Refusal {
  constructor(readonly status: number, readonly message: string) {}
}

/** Listens on hostname:port with Deno.listen (synchronous, so a taken port throws here, as Deno.serve did). */
export function serveHttp1Deno(options: ServeHttpOptions, limits: Http1Limits = DEFAULT_HTTP1_LIMITS): HttpServer {
  const listener = Deno.listen({ hostname: options.hostname, port: options.port, transport: "tcp" });
  const open = new Set<{ close(): void }>();
  const accepting = (async () => {
    for (;;) {
      let conn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      if (open.size >= limits.maxConnections) {
        closeQuietly(conn);
        continue;
      }
      open.add(conn);
      void exchange(conn, options, limits).finally(() => {
        open.delete(conn);
        closeQuietly(conn);
      });
    }
  })();
  return {
    hostname: options.hostname,
    port: listener.addr.port,
    stop: async () => {
      closeQuietly(listener);
      for (const c of open) closeQuietly(c);
      await accepting;
    },
  };
}

/** One connection: read one request within the deadline, answer it, close. */
async function exchange(conn: any, options: ServeHttpOptions, limits: Http1Limits): Promise<void> {
  const timer = setTimeout(() => closeQuietly(conn), limits.deadlineMs);
  try {
    let response: Response;
    let head = false;
    try {
      const request = await readRequest(conn, options, limits);
      head = request.method === "HEAD";
      response = await options.fetch(request);
    } catch (e) {
      if (!(e instanceof Refusal)) return; // the peer went away, or the deadline closed it
      response = new Response(`${e.message}\n`, { status: e.status, headers: { "content-type": "text/plain; charset=utf-8" } });
    }
    await writeResponse(conn, response, head);
    await linger(conn);
  } catch {
    // The peer stopped reading, or the deadline closed the connection: nothing left to tell it.
  } finally {
    clearTimeout(timer);
  }
}

async function readRequest(conn: any, options: ServeHttpOptions, limits: Http1Limits): Promise<Request> {
  let buffered: Uint8Array = new Uint8Array(0);
  let end = -1;
  while (end < 0) {
    const chunk = await readSome(conn);
    if (!chunk) throw new Error("closed before a whole request head");
    const scannedTo = Math.max(0, buffered.length - 3);
    buffered = concat(buffered, chunk);
    end = indexOfHeadEnd(buffered, scannedTo);
    if (end < 0 && buffered.length > limits.maxHeadBytes) throw new Refusal(431, `the request head is over ${limits.maxHeadBytes} bytes`);
  }
  if (end > limits.maxHeadBytes) throw new Refusal(431, `the request head is over ${limits.maxHeadBytes} bytes`);
  const lines = new TextDecoder("latin1").decode(buffered.subarray(0, end)).split("\r\n");
  const [method, target, version] = lines[0]!.split(" ");
  if (!method || !TOKEN.test(method) || !target || !/^HTTP\/1\.[01]$/.test(version ?? "") || lines[0]!.split(" ").length !== 3) throw new Refusal(400, "malformed request line");
  if (lines.length - 1 > limits.maxHeaders) throw new Refusal(431, `more than ${limits.maxHeaders} header fields`);
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon);
    if (colon <= 0 || !TOKEN.test(name)) throw new Refusal(400, "malformed header field");
    headers.append(name, line.slice(colon + 1).trim());
  }
  if (FORBIDDEN_METHODS.has(method.toUpperCase())) throw new Refusal(405, `${method} is not served here`);
  if (!target.startsWith("/")) throw new Refusal(400, "the request target must be a path");
  const host = headers.get("host") ?? `${options.hostname}:${options.port}`;
  if (!HOST.test(host)) throw new Refusal(400, "malformed Host header");
  if (headers.has("transfer-encoding")) throw new Refusal(411, "a request body needs Content-Length");
  const lengthHeader = headers.get("content-length");
  if (lengthHeader !== null && !/^\d{1,10}$/.test(lengthHeader)) throw new Refusal(400, "malformed Content-Length");
  const length = Number(lengthHeader ?? 0);
  if (length > limits.maxBodyBytes) throw new Refusal(413, `a request body may be at most ${limits.maxBodyBytes} bytes`);
  let body: Uint8Array = buffered.subarray(end + 4);
  while (body.length < length) {
    const chunk = await readSome(conn);
    if (!chunk) throw new Error("closed before the whole body");
    body = concat(body, chunk);
  }
  const withBody = !NO_BODY_METHODS.has(method) && length > 0;
  return new Request(`http://${host}${target}`, { method, headers, ...(withBody ? { body: body.slice(0, length) as Uint8Array<ArrayBuffer> } : {}) });
}

async function writeResponse(conn: any, response: Response, head: boolean): Promise<void> {
  const body = new Uint8Array(await response.arrayBuffer());
  let text = `HTTP/1.1 ${response.status} ${STATUS_TEXT[response.status] ?? "Status"}\r\n`;
  response.headers.forEach((value, name) => {
    if (!["content-length", "transfer-encoding", "connection"].includes(name)) text += `${name}: ${value.replace(/[\r\n]/g, " ")}\r\n`;
  });
  text += `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  const bytes = concat(new TextEncoder().encode(text), head ? new Uint8Array(0) : body);
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

/**
 * Half-closes, then reads and drops what the peer still sends (a refused body) for up to
 * LINGER_MS: closing with unread bytes would send a reset, and the peer's stack could drop
 * the answer it has not read yet.
 */
async function linger(conn: any): Promise<void> {
  conn.closeWrite();
  const until = Date.now() + LINGER_MS;
  const buf = new Uint8Array(64 * 1024);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<null>((r) => (timer = setTimeout(() => r(null), LINGER_MS)));
  try {
    while (Date.now() < until && (await Promise.race([conn.read(buf), expired])) !== null);
  } finally {
    clearTimeout(timer);
  }
}

const LINGER_MS = 2000;

async function readSome(conn: any): Promise<Uint8Array | null> {
  const buf = new Uint8Array(16 * 1024);
  const n: number | null = await conn.read(buf);
  return n === null ? null : buf.subarray(0, n);
}

/** Where CRLF CRLF starts, looking from `from` on (what was scanned before need not be again). */
function indexOfHeadEnd(b: Uint8Array, from: number): number {
  for (let i = from; i + 3 < b.length; i++) if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function closeQuietly(c: { close(): void }): void {
  try {
    c.close();
  } catch {
    // already closed
  }
}
