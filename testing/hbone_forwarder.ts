// The client side of waypoint tests: a TCP listener on a client workload's
// address that carries each connection over HBONE to the waypoint, with the
// client's SVID and the Service VIP:port as authority — what the source
// ztunnel does for waypointed traffic. curl, wrk, h2load and gRPC clients
// point at it. (Stands in for the ztunnel hand-off, built separately.)
import * as net from "node:net";
import { ConnectionPool, copyBidirectional, type SocketAddress } from "../hbone/mod.ts";
import type { SpiffeId, WorkloadCertificate } from "../identity/mod.ts";

/** A running forwarder. */
export interface HboneForwarder {
  readonly address: string;
  readonly port: number;
  /** Tunnels opened so far. */
  readonly tunnels: () => number;
  close(): Promise<void>;
}

/** Options for {@link startHboneForwarder}. */
export interface HboneForwarderOptions {
  /** The client workload's address: the listener binds here and tunnels are dialled from it. */
  readonly address: string;
  readonly port?: number;
  readonly source: WorkloadCertificate;
  readonly waypoint: SocketAddress;
  readonly waypointIdentity: SpiffeId;
  /** The Service VIP:port the tunnels name. */
  readonly target: SocketAddress;
}

/** Starts a forwarder; each accepted connection is one HBONE tunnel. */
export function startHboneForwarder(o: HboneForwarderOptions): Promise<HboneForwarder> {
  const pool = new ConnectionPool();
  const sockets = new Set<net.Socket>();
  let tunnels = 0;
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    pool.connect({ source: o.source, hboneAddress: o.waypoint, expectedIdentities: [o.waypointIdentity], target: o.target, localAddress: o.address })
      .then(({ stream }) => {
        tunnels++;
        void copyBidirectional(socket, stream);
      }, () => socket.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, o.address, () => {
      resolve({
        address: o.address,
        port: (server.address() as net.AddressInfo).port,
        tunnels: () => tunnels,
        close: () => new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          pool.close();
          server.close(() => r());
        }),
      });
    });
  });
}
