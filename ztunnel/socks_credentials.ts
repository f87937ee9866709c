/**
 * Each workload's SOCKS5 secret: only a process that can read the workload's
 * credentials file may originate traffic as that workload (RFC 1929
 * username/password; docs/security.md has the threat model). The password is
 * HMAC-SHA256(node key, workload uid), so it is stable across restarts and
 * nothing per workload is stored but the file handed to the workload. The node
 * key (`<dir>/node.key`) and every file are mode 0600 in 0700 directories.
 *
 * A workload's file is `<dir>/<namespace>/<name>` and holds its proxy URL,
 * `socks5h://<name>:<password>@<address>:<port>`, which curl takes as it is:
 * `curl -x "$(cat .ambit/socks/demo/client)" http://hello.demo.svc.cluster.local/`.
 *
 * @example
 * ```ts
 * const credentials = SocksCredentials.open(".ambit/socks");
 * credentials.publish(workload, "127.0.20.1", 15080);
 * credentials.verify(workload, "client", password); // undefined when they match, else why not
 * ```
 * @module
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Workload } from "../xds/resources.ts";

const KEY_BYTES = 32;

/** The per-workload secrets of one node. */
export class SocksCredentials {
  private constructor(readonly dir: string, private readonly key: Buffer) {}

  /** Loads the node key from `dir`, creating it (and `dir`) on first use. */
  static open(dir: string): SocksCredentials {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return new SocksCredentials(dir, loadOrCreateKey(path.join(dir, "node.key")));
  }

  /** The workload's password. */
  passwordFor(workload: Pick<Workload, "uid">): string {
    return createHmac("sha256", this.key).update(`ambit-socks5\0${workload.uid}`).digest("base64url");
  }

  /** Undefined when `username`/`password` are the workload's, else the reason they are not. */
  verify(workload: Pick<Workload, "uid" | "name">, username: string, password: string): string | undefined {
    const want = Buffer.from(this.passwordFor(workload));
    const got = Buffer.from(password);
    const passwordOk = got.length === want.length && timingSafeEqual(got, want);
    const expected = socksUsername(workload);
    if (username !== expected) return `username ${JSON.stringify(username.slice(0, 64))} is not this workload (${expected})`;
    return passwordOk ? undefined : `wrong password for ${expected}`;
  }

  /** Where the workload's file is: never outside `dir`, whatever the names say. */
  fileFor(workload: Pick<Workload, "uid" | "namespace" | "name">): string {
    return path.join(this.dir, isSafeName(workload.namespace) ? workload.namespace : "_", socksUsername(workload));
  }

  /** Writes the workload's proxy URL to its file (atomically, mode 0600). */
  publish(workload: Pick<Workload, "uid" | "name" | "namespace">, address: string, port: number): void {
    const file = this.fileFor(workload);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${socksProxyUrl(socksUsername(workload), this.passwordFor(workload), address, port)}\n`, { mode: 0o600 });
    fs.renameSync(tmp, file);
  }

  /** Removes the workload's file (it is no longer served here). */
  withdraw(workload: Pick<Workload, "uid" | "namespace" | "name">): void {
    fs.rmSync(this.fileFor(workload), { force: true });
  }
}

/**
 * The workload's SOCKS5 username, which also names its file: its name when that
 * is a Kubernetes name, else (a nameless or oddly named workload from a local
 * file) `workload-` and a digest of its uid, so no name can reach outside the directory.
 */
export function socksUsername(workload: Pick<Workload, "uid" | "name">): string {
  return isSafeName(workload.name) ? workload.name : `workload-${createHash("sha256").update(workload.uid).digest("hex").slice(0, 16)}`;
}

/** A DNS subdomain: no '/', never "." or "..", nothing a file system or a URL reads specially. */
function isSafeName(s: string): boolean {
  return s.length <= 253 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(s) && !s.includes("..");
}

/** `socks5h://user:password@address:port` (IPv6 in brackets). */
export function socksProxyUrl(username: string, password: string, address: string, port: number): string {
  const host = address.includes(":") ? `[${address}]` : address;
  return `socks5h://${encodeURIComponent(username)}:${encodeURIComponent(password)}@${host}:${port}`;
}

/** Reads the key, or creates it so that ztunnels sharing `dir` (dev mode) agree on one. */
function loadOrCreateKey(file: string): Buffer {
  try {
    return readKey(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, randomBytes(KEY_BYTES), { mode: 0o600 });
  try {
    // link() fails if another process created the key first: then theirs wins.
    fs.linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return readKey(file);
}

function readKey(file: string): Buffer {
  const key = fs.readFileSync(file);
  if (key.length !== KEY_BYTES) throw new Error(`${file}: a SOCKS5 node key is ${KEY_BYTES} bytes, this one ${key.length}`);
  if ((fs.statSync(file).mode & 0o077) !== 0) throw new Error(`${file}: readable by others (mode ${(fs.statSync(file).mode & 0o777).toString(8)}); it must be 0600`);
  return key;
}
