// Reads /proc/net/tcp{,6} for the owner of a connection's client socket.
import * as fs from "node:fs/promises";
import type { Endpoint } from "./conntrack.ts";
import { findSocketOwner } from "./socket_owner.ts";

/** The uid owning the local socket `client` → `remote`, if it lives in this network namespace. */
export async function socketOwnerOf(client: Endpoint, remote: Endpoint): Promise<number | undefined> {
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    try {
      const uid = findSocketOwner(await fs.readFile(file, "utf8"), client, remote);
      if (uid !== undefined) return uid;
    } catch {
      // No such table (no IPv6): try the next.
    }
  }
  return undefined;
}
