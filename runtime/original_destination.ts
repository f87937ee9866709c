// Where a connection that nftables redirected to a ztunnel listener was going.
// Bun asks the socket (SO_ORIGINAL_DST); Deno, which exposes no descriptor,
// looks the client's port up in the conntrack table. Both give undefined for a
// connection that was not translated. docs/capture.md has the measurements.
import * as fs from "node:fs/promises";
import type * as net from "node:net";
import { type Endpoint, findOriginalDestination } from "./conntrack.ts";
import { runtimeName } from "./serve.ts";

/** Reads an accepted socket's original destination. */
export type OriginalDestinationReader = (socket: net.Socket) => Promise<Endpoint | undefined>;

const CONNTRACK = "/proc/net/nf_conntrack";

/** The reader for this runtime. */
export async function originalDestinationReader(): Promise<OriginalDestinationReader> {
  if (runtimeName === "bun") {
    const { originalDestinationBun } = await import("./original_destination_bun.ts");
    return (socket) => Promise.resolve(originalDestinationBun(socket));
  }
  return conntrackReader;
}

/** The conntrack-table reader (every runtime can use it; Deno must). */
export async function conntrackReader(socket: net.Socket): Promise<Endpoint | undefined> {
  const local = { address: socket.localAddress ?? "", port: socket.localPort ?? 0 };
  const peer = { address: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
  let table: string;
  try {
    table = await fs.readFile(CONNTRACK, "utf8");
  } catch {
    return undefined;
  }
  return findOriginalDestination(table, local, peer);
}
