// Every open connection this ztunnel carries, in one table: for draining, for the
// admin view, and so a policy change can close what it now denies.
import type { SocketAddress } from "../hbone/mod.ts";

/** One open connection, as the admin API lists it. */
export interface ConnectionInfo {
  readonly id: number;
  readonly direction: "inbound" | "outbound";
  readonly source: SocketAddress;
  readonly destination: SocketAddress;
  readonly sourceIdentity?: string;
  readonly destinationIdentity?: string;
  readonly destinationWorkloadUid?: string;
  /** The serial of the certificate the far side of the tunnel proved (HBONE only): revoking it closes the connection. */
  readonly peerSerialNumber?: string;
  readonly protocol: "hbone" | "local" | "passthrough" | "plaintext";
  readonly startedAt: string;
}

interface Tracked {
  readonly info: ConnectionInfo;
  readonly close: () => void;
}

/** The table of open connections. */
export class ConnectionTracker {
  readonly #open = new Map<number, Tracked>();
  #nextId = 1;
  #drained: (() => void) | undefined;

  /** Registers a connection; returns its release function (call once, when it ends). */
  add(info: Omit<ConnectionInfo, "id" | "startedAt">, close: () => void): { id: number; release: () => void } {
    const id = this.#nextId++;
    this.#open.set(id, { info: { ...info, id, startedAt: new Date().toISOString() }, close });
    return {
      id,
      release: () => {
        this.#open.delete(id);
        if (this.#open.size === 0) this.#drained?.();
      },
    };
  }

  get size(): number {
    return this.#open.size;
  }

  list(): ConnectionInfo[] {
    return [...this.#open.values()].map((t) => t.info);
  }

  /** Closes the connections `select` picks; returns how many. */
  closeWhere(select: (info: ConnectionInfo) => boolean): number {
    let n = 0;
    for (const t of [...this.#open.values()]) {
      if (select(t.info)) {
        t.close();
        n++;
      }
    }
    return n;
  }

  /** Resolves when no connection is open, or at the deadline; returns how many were left. */
  async drain(deadlineMs: number): Promise<number> {
    if (this.#open.size > 0) {
      await Promise.race([
        new Promise<void>((r) => (this.#drained = r)),
        new Promise<void>((r) => setTimeout(r, deadlineMs)),
      ]);
    }
    return this.#open.size;
  }
}
