// Wires one waypoint: config → identity and certificate → HBONE listener →
// HTTP engine → filter chain → upstream; plus admin, metrics and readiness.
// State changes in one place (applySnapshot); requests read it through state().
import { isIP } from "node:net";
import { ConnectionPool, copyBidirectional, HboneServer, HboneStatusError, type InboundTunnel } from "../hbone/mod.ts";
import { CertificateAuthority, CertificateRenewer, formatSpiffeId, spiffeId, type WorkloadCertificate } from "../identity/mod.ts";
import { type HttpServer, serveHttp } from "../runtime/mod.ts";
import { HttpMetrics } from "../telemetry/http_metrics.ts";
import { AccessLogRing, AMBIT_VERSION, Logger } from "../telemetry/mod.ts";
import type { WaypointSnapshot } from "../xds/waypoint_resources.ts";
import { prometheusApp, readinessProbeApp } from "../telemetry/surfaces.ts";
import { waypointAdminApp } from "./admin.ts";
import type { WaypointConfig } from "./config.ts";
import { ControlplaneSource } from "./controlplane_source.ts";
import { DownstreamEngine } from "./downstream.ts";
import { backend } from "./filters/backend.ts";
import { headerModifier } from "./filters/header_modifier.ts";
import { mirror } from "./filters/mirror.ts";
import { redirect } from "./filters/redirect.ts";
import { rewrite } from "./filters/rewrite.ts";
import { route } from "./filters/route.ts";
import { router } from "./filters/router.ts";
import { tracing } from "./filters/tracing.ts";
import { LoadBalancer } from "./load_balancer.ts";
import { LocalConfigSource } from "./local_config_source.ts";
import { compose, type RequestContext } from "./request_context.ts";
import { handleRequest } from "./request_path.ts";
import { requestRecorder } from "./request_record.ts";
import { securityFilters } from "./security_chain.ts";
import { telemetryFor } from "./telemetry_policy.ts";
import { SpanExport } from "../telemetry/tracing/mod.ts";
import { EMPTY_WAYPOINT_STATE, WaypointState } from "./state.ts";
import { UpstreamDialer, UpstreamSessions } from "./upstream.ts";

/** A running waypoint. */
export interface Waypoint {
  readonly config: WaypointConfig;
  readonly log: Logger;
  state(): WaypointState;
  readonly ready: Promise<void>;
  /** Re-reads --local-config (SIGHUP). */
  reload(): void;
  drain(): Promise<void>;
}

/** Starts a waypoint from its config. */
export async function startWaypoint(config: WaypointConfig, options: { log?: Logger } = {}): Promise<Waypoint> {
  const log = options.log ?? new Logger({ level: config.logLevel, format: config.logFormat });
  const accessRing = AccessLogRing.tapping(log);
  const metrics = new HttpMetrics("waypoint", AMBIT_VERSION);
  const protocolErrors = metrics.registry.counter("ambit_waypoint_protocol_errors_total", "Malformed requests and HTTP/2 protocol errors, by kind and the status answered (0: connection closed)", ["kind", "response_code"]);
  const tunnels = metrics.registry.counter("ambit_waypoint_tunnels_total", "HBONE tunnels the waypoint terminated, by CONNECT status", ["response_code"]);
  let state = EMPTY_WAYPOINT_STATE;
  let loaded = false;

  // The Gateway, from the flag or the local file.
  const localSource = config.localConfig
    ? new LocalConfigSource({
      file: config.localConfig,
      onConfig: (c) => applySnapshot(c.snapshot),
      onError: (e) => log.error("config", "config rejected; keeping the last good state", { error: e.message }),
    })
    : undefined;
  const initial = localSource?.loadInitial();
  const gateway = config.gateway ?? initial?.gateway;
  if (!gateway) throw new HboneStatusError("ERR_HBONE_BAD_REQUEST", 400, "--gateway (or `gateway:` in the local config) is required");
  const [gatewayNamespace, gatewayName] = gateway.split("/") as [string, string];
  const identity = spiffeId(config.trustDomain, gatewayNamespace, gatewayName);
  localSource?.watch();

  const cpSource = config.controlplane
    ? new ControlplaneSource({
      url: config.controlplane,
      gateway,
      node: `${gatewayNamespace}.${gatewayName}`,
      address: config.address,
      metricsPort: config.metricsPort,
      caFile: config.controlplaneCa,
      token: config.token,
      certTtlSeconds: config.certTtl,
      log,
      onSnapshot: (s) => applySnapshot(s),
    })
    : undefined;
  const ca = cpSource ? undefined : await CertificateAuthority.loadOrCreate({ dir: config.caDir, trustDomain: config.trustDomain });
  const hboneAddress = { address: config.address, port: config.hbonePort };
  let listening = false;
  const renewer = new CertificateRenewer({
    issue: () => cpSource ? cpSource.issue(identity) : ca!.issue(identity, config.certTtl),
    onCertificate: (cert: WorkloadCertificate) => {
      log.info("cert", "certificate issued", { identity: formatSpiffeId(identity), serial: cert.serialNumber, expires: cert.notAfter.toISOString() });
      if (listening) hbone.rotateCertificate(hboneAddress, cert);
    },
    onError: (e, attempt) => log.warn("cert", "certificate request failed", { attempt, error: (e as Error).message }),
  });

  function applySnapshot(snapshot: WaypointSnapshot): void {
    state = new WaypointState(snapshot);
    loaded = true;
    log.info("waypoint", "state updated", { services: snapshot.services.length, workloads: snapshot.workloads.length, routes: snapshot.routes.length });
  }

  const pool = new ConnectionPool({ connectTimeoutMs: config.connectTimeoutMs });
  const dialer = new UpstreamDialer(pool, () => renewer.current, config.connectTimeoutMs);
  const lb = new LoadBalancer(config.loadBalancing);
  const sessionsByTunnel = new WeakMap<InboundTunnel, UpstreamSessions>();
  const sessions = (ctx: RequestContext) => sessionsByTunnel.get(ctx.tunnel)!;
  const spans = new SpanExport({ registry: metrics.registry, resource: { "service.name": `${gatewayName}.${gatewayNamespace}`, "k8s.namespace.name": gatewayNamespace, "service.version": AMBIT_VERSION } });
  const node = { nodeId: `waypoint~${config.address}~${gatewayName}.${gatewayNamespace}~${gatewayNamespace}.svc.${config.clusterDomain}`, namespace: gatewayNamespace, canonicalService: gatewayName };
  const chain = compose([tracing({ spans, node }), ...securityFilters({ log, registry: metrics.registry }), route, redirect, backend(), headerModifier(), rewrite, mirror({ lb, sessions }), router({ lb, sessions })]);
  const accessLog = config.accessLog;
  const deps = { state: () => state, chain, record: requestRecorder(metrics, log, (ctx) => telemetryFor(ctx.state, ctx.target.key)?.accessLogging ?? accessLog, (ctx) => telemetryFor(ctx.state, ctx.target.key)?.metrics ?? true) };
  let inFlight = 0;
  const track = (f: () => void, res?: { once(e: string, l: () => void): unknown }) => {
    inFlight++;
    res?.once("close", () => inFlight--);
    f();
  };
  const engine = new DownstreamEngine({
    request: (conn, req, res) => track(() => handleRequest(deps, conn, req, res), res),
    upgrade: (conn, req, socket, head) => track(() => handleRequest(deps, conn, req, undefined, { socket, head }), socket),
    protocolError: (conn, kind, status) => {
      protocolErrors.inc({ kind, response_code: String(status) });
      log.debug("downstream", "protocol error", { kind, status, src: conn ? `${conn.tunnel.peer.address}:${conn.tunnel.peer.port}` : undefined });
    },
    tcp: (conn, socket) => {
      const target = state.findService(conn.tunnel.destination.address, conn.tunnel.destination.port);
      const ep = target && lb.pick(`${target.key}:${target.port}`, state.endpoints(target.key, target.port));
      if (!ep) return void socket.destroy();
      const done = lb.started(ep);
      dialer.dial(ep, conn.tunnel.forwarded.for ?? `${conn.tunnel.peer.address}:${conn.tunnel.peer.port}`)
        .then((up) => copyBidirectional(socket, up), () => socket.destroy()).finally(done);
    },
  }, { maxHeaderBytes: config.maxHeaderBytes, idleTimeoutMs: config.idleTimeoutMs });

  const hbone = new HboneServer({
    trustDomain: config.trustDomain,
    connectUpstream: (tunnel) => {
      const target = state.findService(tunnel.destination.address, tunnel.destination.port);
      if (!target) {
        return Promise.reject(new HboneStatusError("ERR_HBONE_STATUS", 404, `this waypoint serves no service at ${tunnel.destination.address}:${tunnel.destination.port}`));
      }
      const upstreams = new UpstreamSessions(dialer, tunnel.forwarded.for ?? `${tunnel.peer.address}:${tunnel.peer.port}`);
      sessionsByTunnel.set(tunnel, upstreams);
      const duplex = engine.accept(tunnel, state.protocolOf(target.key, target.port) === "TCP");
      duplex.once("close", () => upstreams.close());
      return Promise.resolve(duplex);
    },
    onTunnelClosed: (r) => {
      tunnels.inc({ response_code: String(r.status) });
      if (r.status !== 200) log.debug("hbone", "tunnel refused", { status: r.status, error: r.error?.message });
    },
    onSessionError: (e) => log.debug("hbone", "session error", { error: e.message }),
  });

  cpSource?.start();
  const cert = await renewer.start();
  await hbone.listen(hboneAddress, cert);
  listening = true;

  const notReadyReason = () => {
    if (cpSource && !cpSource.client?.synced) return "waiting for the first xDS response of each type";
    if (!loaded) return "no config loaded yet";
    if (!renewer.current) return "certificate pending";
    return undefined;
  };

  const servers: HttpServer[] = [];
  let draining: Promise<void> | undefined;
  const drain = () =>
    draining ??= (async () => {
      log.info("waypoint", "draining", { inFlight, deadlineSeconds: config.drainSeconds });
      localSource?.stop();
      cpSource?.stop();
      hbone.stopAccepting();
      const deadline = Date.now() + config.drainSeconds * 1000;
      while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      engine.closeAll();
      hbone.close();
      pool.close();
      renewer.stop();
      await spans.shutdown();
      await Promise.all(servers.map((s) => s.stop()));
    })();

  const adminAddress = isLoopback(config.address) ? config.address : "127.0.0.1";
  servers.push(serveHttp({
    hostname: adminAddress,
    port: config.adminPort,
    fetch: waypointAdminApp({
      gateway,
      identity: () => formatSpiffeId(identity),
      state: () => state,
      certificate: () => renewer.current && { serialNumber: renewer.current.serialNumber, notAfter: renewer.current.notAfter.toISOString() },
      configSource: () =>
        cpSource
          ? { kind: "xds", url: config.controlplane, xds: cpSource.client?.stats() }
          : { kind: "file", path: config.localConfig, lastError: localSource?.lastError, loadedAt: localSource?.loadedAt?.toISOString() },
      stats: () => ({ inFlight, downstreamConnections: engine.openConnections, tunnels: hbone.openTunnels, pool: pool.stats() }),
      log,
      accessLog: accessRing,
      quit: () => void drain().then(() => process.exit(0)),
    }).fetch,
  }));
  servers.push(serveHttp({ hostname: config.address, port: config.metricsPort, fetch: prometheusApp(() => metrics.render()).fetch }));
  servers.push(serveHttp({ hostname: config.address, port: config.readinessPort, fetch: readinessProbeApp(notReadyReason).fetch }));

  const ready = (async () => {
    while (notReadyReason()) await new Promise((r) => setTimeout(r, 20));
  })();
  void ready.then(() => log.info("waypoint", "ready", { gateway, identity: formatSpiffeId(identity), address: config.address, version: AMBIT_VERSION }));
  return { config, log, state: () => state, ready, reload: () => localSource?.reload(), drain };
}

function isLoopback(address: string): boolean {
  return isIP(address) === 4 ? address.startsWith("127.") : address === "::1";
}
