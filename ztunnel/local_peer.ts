/**
 * Whether a SOCKS5 client is on this host. A workload's SOCKS5 listens on the
 * workload's address, which on a node is routable: without this check any host
 * that reaches the address could try to speak as the workload. A TCP peer
 * cannot claim one of this host's addresses from outside (the kernel drops such
 * packets as martians), so "the peer address is one of ours" means "a process
 * on this host"; the credentials (socks_credentials.ts) then say which one.
 *
 * @example
 * ```ts
 * const host = new HostAddresses();
 * host.has("10.0.0.5"); // true when an interface has it
 * ```
 * @module
 */
import * as os from "node:os";

/** True for loopback addresses and for any in `interfaceAddresses`. Pure. */
export function isOnThisHost(address: string, interfaceAddresses: ReadonlySet<string>): boolean {
  const a = address.toLowerCase().replace(/^::ffff:(?=\d+\.)/, "");
  if (a.startsWith("127.") && /^\d+\.\d+\.\d+\.\d+$/.test(a)) return true;
  if (a === "::1") return true;
  return interfaceAddresses.has(a);
}

/** This host's interface addresses, re-read (at most once a second) when an address is not among them. */
export class HostAddresses {
  #addresses: ReadonlySet<string> = readInterfaces();
  #readAt = Date.now();

  has(address: string): boolean {
    if (isOnThisHost(address, this.#addresses)) return true;
    if (Date.now() - this.#readAt < 1000) return false;
    this.#addresses = readInterfaces();
    this.#readAt = Date.now();
    return isOnThisHost(address, this.#addresses);
  }
}

function readInterfaces(): ReadonlySet<string> {
  return new Set(Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address.toLowerCase().replace(/%.*$/, ""))));
}
