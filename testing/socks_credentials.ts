/**
 * The SOCKS5 credentials ztunnels write for their workloads
 * (`<dir>/<namespace>/<name>`, each file the workload's proxy URL), found by
 * the proxy address a test connects to. The mesh launchers register their
 * ztunnels' directories, so a test that acts as a workload uses that
 * workload's own credentials, as the workload would; tests of the control
 * itself pass other credentials (or none) explicitly.
 *
 * @example
 * ```ts
 * registerSocksCredentials(dir);
 * socksCredentialsAt({ address: ip.sleep, port: 15080 })?.url; // "socks5h://sleep:…@127.x.y.z:15080"
 * ```
 * @module
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** A workload's SOCKS5 username and password, and the URL curl takes. */
export interface SocksCredentials {
  readonly username: string;
  readonly password: string;
  readonly url: string;
}

const dirs: string[] = [];

/**
 * Makes `dir`'s credentials files known to {@link socksCredentialsAt}, ahead of
 * those registered before (a test that starts a second mesh on the same
 * addresses gets the second one's). Returns how to forget it again.
 */
export function registerSocksCredentials(dir: string): () => void {
  dirs.unshift(dir);
  return () => {
    const i = dirs.indexOf(dir);
    if (i >= 0) dirs.splice(i, 1);
  };
}

/** The credentials of the workload whose SOCKS5 listens at `proxy`, if a registered directory has them. */
export function socksCredentialsAt(proxy: { address: string; port: number }): SocksCredentials | undefined {
  for (const dir of dirs) {
    for (const file of filesIn(dir)) {
      const text = readOrEmpty(file).trim();
      if (!text.startsWith("socks5h://")) continue;
      const url = new URL(text);
      if (url.hostname.replace(/^\[|\]$/g, "") === proxy.address && Number(url.port) === proxy.port) {
        return { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password), url: text };
      }
    }
  }
  return undefined;
}

/** The proxy URL for curl's `-x`; throws when no registered directory has the workload. */
export function socksUrl(address: string, port = 15080): string {
  const found = socksCredentialsAt({ address, port });
  if (!found) throw new Error(`no SOCKS5 credentials for ${address}:${port} in ${[...dirs].join(", ") || "(no registered directory)"}`);
  return found.url;
}

function filesIn(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).flatMap((ns) =>
      fs.readdirSync(path.join(dir, ns.name)).filter((f) => !f.endsWith(".tmp")).map((f) => path.join(dir, ns.name, f))
    );
  } catch {
    return [];
  }
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}
