// Wires one ztunnel: config → state → certificates → listeners → surfaces.
// Everything that changes lives here or in the module that owns it; the data
// path reads state through `state()`.
import { isIP } from "node:net";
import { ConnectionPool, HboneServer } from "../hbone/mod.ts";
import { CertificateAuthority, formatSpiffeId, sameSpiffeId, type WorkloadCertificate } from "../identity/mod.ts";
import { type HttpServer, serveHttp } from "../runtime/mod.ts";
import { AccessLogRing, AMBIT_VERSION, Logger, TcpMetrics } from "../telemetry/mod.ts";
import type { DataPlaneSnapshot } from "../xds/resources.ts";
import { adminApp, metricsApp, readinessApp } from "./admin.ts";
import { CertificateManager, type CertificateSource, LocalCaSource } from "./certificates.ts";
import type { ZtunnelConfig } from "./config.ts";
import { ConnectionTracker } from "./connections.ts";
import { AuthorizationReport } from "./authorization_report.ts";
import { reservedPortsOf } from "./destination_guard.ts";
import { RefusalReport } from "./refusal_report.ts";
import { RevocationSweep } from "./revocation_sweep.ts";
import { checkRevokedSerial } from "./revoked_serials.ts";
import { Inbound } from "./inbound.ts";
import { ControlplaneSession } from "./controlplane_session.ts";
import { LocalConfigSource } from "./local_config_source.ts";
import { XdsConfigSource } from "./xds_config_source.ts";
import * as fs from "node:fs";
import { Outbound } from "./outbound.ts";
import { identityOf } from "./outbound_request.ts";
import { HostAddresses } from "./local_peer.ts";
import { SocksCredentials } from "./socks_credentials.ts";
import { WorkloadListeners } from "./workload_listeners.ts";
import { startCapture } from "./capture.ts";
import { EMPTY_STATE, ProxyState } from "./state.ts";
import { registerZtunnelMetrics } from "./ztunnel_metrics.ts";
import { ConnectionTracing } from "./connection_trace.ts";

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

/** Starts a ztunnel from its config. */
export async function startZtunnel(config: ZtunnelConfig, options: { log?: Logger; certificateSource?: CertificateSource } = {}): Promise<Ztunnel> {
  const log = options.log ?? new Logger({ level: config.logLevel, format: config.logFormat });
  const accessLog = AccessLogRing.tapping(log);
  const metrics = new TcpMetrics("ztunnel", AMBIT_VERSION);
  const tracker = new ConnectionTracker();
  let revokedSerials: ReadonlySet<string> = new Set();
  const pool = new ConnectionPool({ connectTimeoutMs: config.connectTimeoutMs, isRevokedSerial: (serial) => checkRevokedSerial(serial, revokedSerials).revoked });
  let state = EMPTY_STATE;
  let loaded = false;
  let reconciling: Promise<void> = Promise.resolve();
  const localWorkloads = () => state.workloadsOnNode(config.node).filter((w) => w.tunnelProtocol === "HBONE" && !w.nativeTunnel);
  const xdsObserver = registerZtunnelMetrics(metrics.registry, () => {
    const local = localWorkloads();
    const served = local.filter((w) => w.addresses.length > 0 && w.addresses.every((a) => listeners.isServing(a))).length;
    return { active: served, pending: local.length - served };
  });

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
  const certificates = new CertificateManager(source, log, (cert) => listeners.rotate(cert), config.connectTimeoutMs);
  const authorization = new AuthorizationReport(metrics.registry, log);
  const refusals = new RefusalReport(metrics.registry, log);
  const destinationRules = { reservedPorts: reservedPortsOf(config), allowLinkLocal: config.passthroughLinkLocal };
  const tracing = new ConnectionTracing({ endpoint: config.tracingEndpoint, samplingPercent: config.tracingSampling, node: config.node, registry: metrics.registry });
  const inbound = new Inbound({ node: config.node, state: () => state, metrics, log, tracker, connectTimeoutMs: config.connectTimeoutMs, authorization, destinationRules, refusals, revokedSerials: () => revokedSerials, tracing });
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
    destinationRules,
    refusals,
    connectTimeoutMs: config.connectTimeoutMs,
    tracing,
  });
  const capture = config.capture ? await startCapture(config, () => state, outbound, log) : undefined;
  const hbone = new HboneServer({
    trustDomain: config.trustDomain,
    connectUpstream: inbound.connectUpstream,
    onTunnelClosed: (r) => {
      inbound.onTunnelClosed(r);
      if (r.status !== 200) log.debug("inbound", "tunnel refused", { status: r.status, error: r.error?.message });
    },
    onSessionError: (e, local) => log.debug("inbound", "session error", { local: local.address, error: e.message }),
  });
  const listeners = new WorkloadListeners({
    node: config.node,
    ports: { hbone: config.hbonePort, socks: config.socksPort, plaintext: config.plaintextPort },
    state: () => state,
    certificates,
    hbone,
    inbound,
    outbound,
    credentials: SocksCredentials.open(config.socksCredentialsDir),
    hostAddresses: new HostAddresses(),
    refusals,
    log,
    originalDestination: capture?.originalDestination,
  });

  const sweep = new RevocationSweep({ tracker, pool, hbone, registry: metrics.registry, log });

  function applySnapshot(snapshot: DataPlaneSnapshot): void {
    state = new ProxyState(snapshot, config.clusterDomain);
    loaded = true;
    const closed = inbound.reauthorize();
    if (closed > 0) log.info("rbac", "closed connections the new policies deny", { closed });
    log.info("ztunnel", "state updated", { workloads: snapshot.workloads.length, services: snapshot.services.length, policies: snapshot.policies.length });
    const reconcile = () => listeners.reconcile();
    reconciling = reconciling.then(reconcile, reconcile);
    if (capture) reconciling = reconciling.then(capture.reconcile, capture.reconcile);
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
  const xdsSource = session ? new XdsConfigSource({ session, address: config.address, metricsPort: config.metricsPort, log, onSnapshot: applySnapshot, observer: xdsObserver, onRevokedSerials: (s) => {
      revokedSerials = s;
      sweep.apply(s);
    } }) : undefined;
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
    // A workload whose certificate keeps failing (refused, or no answer within --connect-timeout-ms)
    // is reported in the log and in /config_dump's certificates; it does not hold the node unready.
    const starting = state.workloadsOnNode(config.node)
      .filter((w) => w.tunnelProtocol === "HBONE" && !w.nativeTunnel && !certificates.failing(identityOf(w)) && w.addresses.some((a) => !listeners.isServing(a)));
    if (starting.length > 0) return `listeners starting: ${starting.map((w) => `${w.namespace}/${w.name}`).join(", ")}`;
    return undefined;
  };

  let draining: Promise<void> | undefined;
  const servers: HttpServer[] = [];
  const drain = () =>
    draining ??= (async () => {
      log.info("ztunnel", "draining", { open: tracker.size, deadlineSeconds: config.drainSeconds });
      configSource?.stop();
      xdsSource?.stop();
      await listeners.stopAccepting();
      await capture?.stopAccepting();
      hbone.stopAccepting();
      const left = await tracker.drain(config.drainSeconds * 1000);
      if (left > 0) log.warn("ztunnel", "closing connections still open at the drain deadline", { open: left });
      tracker.closeWhere(() => true);
      hbone.close();
      listeners.close();
      capture?.close();
      pool.close();
      await tracing.shutdown();
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
      accessLog,
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
  servers.push(serveHttp({ hostname: config.address, port: config.readinessPort, fetch: readinessApp(notReadyReason, () => xdsSource?.client?.outOfSync).fetch }));

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
