// Wires one ztunnel: config → state → certificates → listeners → surfaces.
// Everything that changes lives here or in the module that owns it; the data
// path reads state through `state()`.
import { isIP } from "node:net";
import { ConnectionPool, HboneServer } from "../hbone/mod.ts";
import { CertificateAuthority, formatSpiffeId, sameSpiffeId, type WorkloadCertificate } from "../identity/mod.ts";
import { type HttpServer, serveHttp } from "../runtime/mod.ts";
import { AMBIT_VERSION, Logger, TcpMetrics } from "../telemetry/mod.ts";
import type { DataPlaneSnapshot } from "../xds/resources.ts";
import { adminApp, metricsApp, readinessApp } from "./admin.ts";
import { CertificateManager, type CertificateSource, LocalCaSource } from "./certificates.ts";
import type { ZtunnelConfig } from "./config.ts";
import { ConnectionTracker } from "./connections.ts";
import { AuthorizationReport } from "./authorization_report.ts";
import { Inbound } from "./inbound.ts";
import { PlaintextListener } from "./plaintext_inbound.ts";
import { ControlplaneSession } from "./controlplane_session.ts";
import { LocalConfigSource } from "./local_config_source.ts";
import { XdsConfigSource } from "./xds_config_source.ts";
import * as fs from "node:fs";
import { Outbound } from "./outbound.ts";
import { identityOf } from "./outbound_request.ts";
import { Socks5Listener } from "./socks5.ts";
import { SocksReply } from "./socks5_protocol.ts";
import { EMPTY_STATE, ProxyState } from "./state.ts";

/** A running ztunnel. */
export interface Ztunnel {
  readonly config: ZtunnelConfig;
  readonly log: Logger;
  state(): ProxyState;
  /** Resolves once state and certificates are in and listeners are up. */
  readonly ready: Promise<void>;
  /** Stops accepting, lets connections finish up to the drain deadline, then closes all. */
  drain(): Promise<void>;
}

interface WorkloadListeners {
  readonly socks: Socks5Listener;
  readonly plaintext: PlaintextListener;
  readonly identity: string;
}

/** Starts a ztunnel from its config. */
export async function startZtunnel(config: ZtunnelConfig, options: { log?: Logger; certificateSource?: CertificateSource } = {}): Promise<Ztunnel> {
  const log = options.log ?? new Logger({ level: config.logLevel, format: config.logFormat });
  const metrics = new TcpMetrics("ztunnel", AMBIT_VERSION);
  const tracker = new ConnectionTracker();
  const pool = new ConnectionPool({ connectTimeoutMs: config.connectTimeoutMs });
  let state = EMPTY_STATE;
  let loaded = false;
  let reconciling: Promise<void> = Promise.resolve();
  const listeners = new Map<string, WorkloadListeners>();
  const hboneAddress = (address: string) => ({ address, port: config.hbonePort });

  const session = config.controlplane
    ? new ControlplaneSession({
      url: config.controlplane,
      node: config.node,
      trustDomain: config.trustDomain,
      caPem: config.controlplaneCa ? fs.readFileSync(config.controlplaneCa, "utf8") : undefined,
      joinToken: config.joinToken,
      joinTokenFile: config.joinTokenFile,
    }, config.certTtl)
    : undefined;
  const source = options.certificateSource ?? session ??
    new LocalCaSource(await CertificateAuthority.loadOrCreate({ dir: config.caDir, trustDomain: config.trustDomain }), config.certTtl);
  const certificates = new CertificateManager(source, log, (cert) => rotateListeners(cert));
  const authorization = new AuthorizationReport(metrics.registry, log);
  const inbound = new Inbound({ node: config.node, state: () => state, metrics, log, tracker, connectTimeoutMs: config.connectTimeoutMs, authorization });
  const outbound = new Outbound({
    node: config.node,
    state: () => state,
    pool,
    certificates,
    inbound,
    metrics,
    log,
    tracker,
    allowPassthrough: config.passthrough,
    connectTimeoutMs: config.connectTimeoutMs,
  });
  const hbone = new HboneServer({
    trustDomain: config.trustDomain,
    connectUpstream: inbound.connectUpstream,
    onTunnelClosed: (r) => {
      inbound.onTunnelClosed(r);
      if (r.status !== 200) log.debug("inbound", "tunnel refused", { status: r.status, error: r.error?.message });
    },
    onSessionError: (e, local) => log.debug("inbound", "session error", { local: local.address, error: e.message }),
  });

  function rotateListeners(cert: WorkloadCertificate): void {
    for (const [address, l] of listeners) {
      if (l.identity === formatSpiffeId(cert.identity)) hbone.rotateCertificate(hboneAddress(address), cert);
    }
  }

  /** Brings listeners and certificates in line with the workloads on this node. */
  async function reconcile(): Promise<void> {
    const local = state.workloadsOnNode(config.node).filter((w) => w.tunnelProtocol === "HBONE");
    const identities = local.map(identityOf).filter((id, i, all) => all.findIndex((o) => sameSpiffeId(o, id)) === i);
    certificates.reconcile(identities);
    const wanted = new Map(local.flatMap((w) => w.addresses.map((a) => [a, w] as const)));
    for (const [address, l] of listeners) {
      const w = wanted.get(address);
      if (w && formatSpiffeId(identityOf(w)) === l.identity) continue;
      listeners.delete(address);
      await l.socks.stopAccepting();
      await l.plaintext.stopAccepting();
      await hbone.unlisten(hboneAddress(address));
    }
    for (const [address, workload] of wanted) {
      if (listeners.has(address)) continue;
      const identity = identityOf(workload);
      const cert = await certificates.ready(identity);
      const socks = new Socks5Listener({
        // Looked up per connection, so a workload's changes apply without a new listener.
        handler: (request, client) => {
          const current = state.findWorkload(address);
          if (!current || current.node !== config.node) {
            return Promise.resolve({ reply: SocksReply.generalFailure, message: `no workload at ${address} on this node` });
          }
          return outbound.handlerFor(current)(request, client);
        },
        onRefused: (message, client) => log.debug("socks5", "request refused", { client: client.address, error: message }),
      });
      const plaintext = new PlaintextListener(address, inbound, () => state, log);
      try {
        await hbone.listen(hboneAddress(address), cert);
        await socks.listen(address, config.socksPort);
        await plaintext.listen(config.plaintextPort);
      } catch (e) {
        log.error("ztunnel", "cannot listen for workload", { workload: `${workload.namespace}/${workload.name}`, address, error: (e as Error).message });
        socks.close();
        await plaintext.stopAccepting().catch(() => {});
        await hbone.unlisten(hboneAddress(address));
        continue;
      }
      listeners.set(address, { socks, plaintext, identity: formatSpiffeId(identity) });
      log.info("ztunnel", "serving workload", { workload: `${workload.namespace}/${workload.name}`, address, identity: formatSpiffeId(identity) });
    }
  }

  function applySnapshot(snapshot: DataPlaneSnapshot): void {
    state = new ProxyState(snapshot, config.clusterDomain);
    loaded = true;
    const closed = inbound.reauthorize();
    if (closed > 0) log.info("rbac", "closed connections the new policies deny", { closed });
    log.info("ztunnel", "state updated", { workloads: snapshot.workloads.length, services: snapshot.services.length, policies: snapshot.policies.length });
    reconciling = reconciling.then(reconcile, reconcile);
  }

  const configSource = config.localConfig
    ? new LocalConfigSource({
      file: config.localConfig,
      trustDomain: config.trustDomain,
      onSnapshot: applySnapshot,
      onError: (e) => log.error("config", "config rejected; keeping the last good state", { error: e.message }),
    })
    : undefined;
  configSource?.loadInitial();
  configSource?.watch();
  const xdsSource = session ? new XdsConfigSource({ session, address: config.address, log, onSnapshot: applySnapshot }) : undefined;
  if (xdsSource) {
    // The controlplane may be down at start: keep trying, unready until the first state is in.
    void (async () => {
      for (let attempt = 1;; attempt++) {
        try {
          await xdsSource.start();
          return;
        } catch (e) {
          log.warn("xds", "cannot reach the controlplane yet", { attempt, error: (e as Error).message });
          await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
        }
      }
    })();
  }

  const notReadyReason = () => {
    if (xdsSource && !xdsSource.client?.synced) return "waiting for the first xDS response of each type";
    if (!loaded) return "no config loaded yet";
    if (!certificates.allReady()) return "certificates pending";
    const localAddresses = state.workloadsOnNode(config.node).filter((w) => w.tunnelProtocol === "HBONE").flatMap((w) => w.addresses);
    if (localAddresses.some((a) => !listeners.has(a))) return "listeners starting";
    return undefined;
  };

  let draining: Promise<void> | undefined;
  const servers: HttpServer[] = [];
  const drain = () =>
    draining ??= (async () => {
      log.info("ztunnel", "draining", { open: tracker.size, deadlineSeconds: config.drainSeconds });
      configSource?.stop();
      xdsSource?.stop();
      await Promise.all([...listeners.values()].flatMap((l) => [l.socks.stopAccepting(), l.plaintext.stopAccepting()]));
      hbone.stopAccepting();
      const left = await tracker.drain(config.drainSeconds * 1000);
      if (left > 0) log.warn("ztunnel", "closing connections still open at the drain deadline", { open: left });
      tracker.closeWhere(() => true);
      hbone.close();
      for (const l of listeners.values()) l.socks.close();
      pool.close();
      certificates.stop();
      await Promise.all(servers.map((s) => s.stop()));
    })();

  const adminAddress = isLoopback(config.address) ? config.address : "127.0.0.1";
  servers.push(serveHttp({
    hostname: adminAddress,
    port: config.adminPort,
    fetch: adminApp({
      node: config.node,
      state: () => state,
      certificates: () => certificates.list(),
      connections: () => tracker.list(),
      pool: () => pool.stats(),
      configSource: () =>
        xdsSource
          ? { kind: "xds", path: config.controlplane, xds: xdsSource.client?.stats() }
          : {
            kind: configSource ? "file" : "none",
            path: config.localConfig,
            lastError: configSource?.lastError,
            loadedAt: configSource?.loadedAt?.toISOString(),
          },
      log,
      explain: (facts) => inbound.explain(facts),
      quit: () => void drain().then(() => process.exit(0)),
      xds: xdsSource && (() => ({
        stats: xdsSource.client?.stats(),
        // Each response as names only: enough to see what a push carried.
        received: xdsSource.client?.received.map((r) => ({
          typeUrl: r.typeUrl,
          nonce: r.nonce,
          systemVersionInfo: r.systemVersionInfo,
          resources: r.resources.map((x) => x.name),
          removedResources: r.removedResources,
        })),
      })),
    }).fetch,
  }));
  servers.push(serveHttp({ hostname: config.address, port: config.metricsPort, fetch: metricsApp(metrics.registry).fetch }));
  servers.push(serveHttp({ hostname: config.address, port: config.readinessPort, fetch: readinessApp(notReadyReason).fetch }));

  const ready = (async () => {
    for (;;) {
      await reconciling;
      if (!notReadyReason()) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  void ready.then(() => log.info("ztunnel", "ready", { node: config.node, address: config.address, version: AMBIT_VERSION }));

  return { config, log, state: () => state, ready, drain };
}

function isLoopback(address: string): boolean {
  return isIP(address) === 4 ? address.startsWith("127.") : address === "::1";
}
