/**
 * The listeners of each workload on this node — HBONE (15008), SOCKS5 (15080)
 * and plaintext (15006) on the workload's address — brought in line with state
 * one workload at a time: each starts on its own once its identity has a
 * certificate, so a CSR the CA refuses or never answers holds back only that
 * workload, never the node's other workloads or its next config update.
 *
 * The SOCKS5 listener admits only clients on this host that authenticate with
 * the workload's own credentials (socks_credentials.ts, docs/security.md): the
 * workload's file is written before its SOCKS5 port opens and removed when the
 * workload leaves the node.
 *
 * @example
 * ```ts
 * const listeners = new WorkloadListeners(deps);
 * await listeners.reconcile(); // returns without waiting for certificates
 * listeners.isServing("127.0.20.1");
 * ```
 * @module
 */
import type { HboneServer, SocketAddress } from "../hbone/mod.ts";
import { formatSpiffeId, type WorkloadCertificate } from "../identity/mod.ts";
import type { Logger } from "../telemetry/mod.ts";
import type { Workload } from "../xds/resources.ts";
import type { CertificateManager } from "./certificates.ts";
import type { Inbound } from "./inbound.ts";
import type { HostAddresses } from "./local_peer.ts";
import type { Outbound } from "./outbound.ts";
import { identityOf } from "./outbound_request.ts";
import { PlaintextListener } from "./plaintext_inbound.ts";
import type { RefusalReport } from "./refusal_report.ts";
import { Socks5Listener } from "./socks5.ts";
import { SocksReply } from "./socks5_protocol.ts";
import type { SocksCredentials } from "./socks_credentials.ts";
import type { ProxyState } from "./state.ts";

/** What the workload listeners need from the rest of the ztunnel. */
export interface WorkloadListenersDeps {
  readonly node: string;
  readonly ports: { readonly hbone: number; readonly socks: number; readonly plaintext: number };
  readonly state: () => ProxyState;
  readonly certificates: CertificateManager;
  readonly hbone: HboneServer;
  readonly inbound: Inbound;
  readonly outbound: Outbound;
  readonly credentials: SocksCredentials;
  readonly hostAddresses: HostAddresses;
  readonly refusals: RefusalReport;
  readonly log: Logger;
}

interface Served {
  readonly socks: Socks5Listener;
  readonly plaintext: PlaintextListener;
  readonly identity: string;
  readonly workload: Workload;
}

/** A workload's start in progress; `cancelled` once state no longer wants it. */
interface Starting {
  readonly identity: string;
  cancelled: boolean;
  done: Promise<void>;
}

/** Every local workload's listeners. */
export class WorkloadListeners {
  readonly #served = new Map<string, Served>();
  readonly #starting = new Map<string, Starting>();

  constructor(private readonly deps: WorkloadListenersDeps) {}

  /** Stops what state no longer has here and starts, each on its own, what it newly has. */
  async reconcile(): Promise<void> {
    const { state, node, certificates } = this.deps;
    const local = state().workloadsOnNode(node).filter((w) => w.tunnelProtocol === "HBONE");
    certificates.reconcile(local.map(identityOf));
    const wanted = new Map(local.flatMap((w) => w.addresses.map((a) => [a, w] as const)));
    const want = (address: string) => {
      const w = wanted.get(address);
      return w && formatSpiffeId(identityOf(w));
    };
    for (const [address, s] of this.#starting) {
      if (want(address) !== s.identity) s.cancelled = true;
    }
    for (const [address, served] of this.#served) {
      if (want(address) === served.identity) continue;
      this.#served.delete(address);
      await this.#stop(address, served);
    }
    for (const [address, workload] of wanted) {
      const identity = want(address)!;
      if (this.#served.has(address) || (this.#starting.get(address)?.identity === identity && !this.#starting.get(address)!.cancelled)) continue;
      const previous = this.#starting.get(address)?.done ?? Promise.resolve();
      const ticket: Starting = { identity, cancelled: false, done: Promise.resolve() };
      ticket.done = previous.then(() => this.#start(address, workload, ticket)).finally(() => {
        if (this.#starting.get(address) === ticket) this.#starting.delete(address);
      });
      this.#starting.set(address, ticket);
    }
  }

  /** True once the workload at `address` has all its listeners up. */
  isServing(address: string): boolean {
    return this.#served.has(address);
  }

  /** Presents a renewed certificate on the HBONE listeners of the workloads with its identity. */
  rotate(cert: WorkloadCertificate): void {
    for (const [address, s] of this.#served) {
      if (s.identity === formatSpiffeId(cert.identity)) this.deps.hbone.rotateCertificate(this.#hbone(address), cert);
    }
  }

  /** Stops accepting on every SOCKS5 and plaintext listener (draining). */
  async stopAccepting(): Promise<void> {
    for (const s of this.#starting.values()) s.cancelled = true;
    await Promise.all([...this.#served.values()].flatMap((s) => [s.socks.stopAccepting(), s.plaintext.stopAccepting()]));
  }

  /** Closes every SOCKS5 connection still open. */
  close(): void {
    for (const s of this.#served.values()) s.socks.close();
  }

  async #start(address: string, workload: Workload, ticket: Starting): Promise<void> {
    const { certificates, hbone, log, ports } = this.deps;
    const name = `${workload.namespace}/${workload.name}`;
    let cert: WorkloadCertificate;
    try {
      cert = await certificates.ready(identityOf(workload));
    } catch (e) {
      // The identity left the node (its renewer stopped) before a certificate came.
      if (!ticket.cancelled) log.warn("ztunnel", "no certificate for workload", { workload: name, error: (e as Error).message });
      return;
    }
    if (ticket.cancelled) return;
    const socks = this.#socksListener(address);
    const plaintext = new PlaintextListener(address, this.deps.inbound, this.deps.state, log);
    try {
      await hbone.listen(this.#hbone(address), cert);
      this.deps.credentials.publish(workload, address, ports.socks);
      await socks.listen(address, ports.socks);
      await plaintext.listen(ports.plaintext);
    } catch (e) {
      log.error("ztunnel", "cannot listen for workload", { workload: name, address, error: (e as Error).message });
      socks.close();
      await plaintext.stopAccepting().catch(() => {});
      await hbone.unlisten(this.#hbone(address));
      return;
    }
    const served = { socks, plaintext, identity: ticket.identity, workload };
    if (ticket.cancelled) return void (await this.#stop(address, served));
    this.#served.set(address, served);
    log.info("ztunnel", "serving workload", { workload: name, address, identity: ticket.identity });
  }

  #socksListener(address: string): Socks5Listener {
    const { state, node, outbound, credentials, hostAddresses, refusals, log } = this.deps;
    // The workload is looked up per connection, so its changes apply without a new listener.
    const current = () => {
      const w = state().findWorkload(address);
      return w && w.node === node ? w : undefined;
    };
    return new Socks5Listener({
      admitClient: (client) => hostAddresses.has(client.address) ? undefined : `SOCKS5 client ${client.address} is not on this host`,
      authenticate: (username, password) => {
        const w = current();
        return w ? credentials.verify(w, username, password) : `no workload at ${address} on this node`;
      },
      handler: (request, client) => {
        const w = current();
        if (!w) return Promise.resolve({ reply: SocksReply.generalFailure, message: `no workload at ${address} on this node` });
        return outbound.handlerFor(w)(request, client);
      },
      onRefused: (message, client: SocketAddress, kind) => {
        if (kind === "client") refusals.record("outbound", "socks-client", message, { "src.addr": client.address, "socks.addr": address });
        else log.debug("socks5", "request refused", { client: client.address, error: message });
      },
    });
  }

  async #stop(address: string, served: Served): Promise<void> {
    const { credentials, hbone, state, node } = this.deps;
    // Another workload of the same name may now be served here under a new identity: keep its file.
    const successor = state().workloadsOnNode(node).some((w) => w.namespace === served.workload.namespace && w.name === served.workload.name);
    if (!successor) credentials.withdraw(served.workload);
    await served.socks.stopAccepting();
    await served.plaintext.stopAccepting();
    await hbone.unlisten(this.#hbone(address));
  }

  #hbone(address: string): SocketAddress {
    return { address, port: this.deps.ports.hbone };
  }
}
