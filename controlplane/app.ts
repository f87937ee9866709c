// Wires the controlplane: state directory → store, nodes, CA → translation →
// xDS → HTTP routes → listeners. Everything that changes config goes through the
// store; everything else reads the DataPlane it feeds.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Hono } from "hono";
import { ConfigError } from "../config/errors.ts";
import { parseConfig } from "../config/intake.ts";
import { objectKey } from "../config/objects.ts";
import { CertificateAuthority, controlplaneUri, createUriCertificateRequest, joinPem } from "../identity/mod.ts";
import { type HttpServer, type Http2Listener, type RequestHead, serveHttp, serveHttp2 } from "../runtime/mod.ts";
import { AMBIT_VERSION, Logger } from "../telemetry/mod.ts";
import { DeltaXdsServer } from "../xds/server.ts";
import { parseMeshConfig } from "./translate/mesh_config.ts";
import { xdsRoutes } from "../xds/http_routes.ts";
import { admitRequest } from "./admission.ts";
import { type Caller, identifyCaller, type RequestEnv } from "./caller.ts";
import { type ControlplaneConfig, splitHostPort } from "./config.ts";
import { DataPlane } from "./dataplane.ts";
import { controlplaneMetrics, metricsRoutes } from "./metrics.ts";
import { NodeRegistry } from "./node_registry.ts";
import { caRoutes } from "./routes/ca_routes.ts";
import { configRoutes } from "./routes/config_routes.ts";
import { nodeRoutes } from "./routes/node_routes.ts";
import { serviceDiscoveryRoutes } from "./routes/service_discovery_routes.ts";
import { serviceDiscoveryTargets } from "./service_discovery.ts";
import { startDashboard } from "./graph/dashboard.ts";
import { graphRoutes } from "./graph/graph_routes.ts";
import { waypointRoutes } from "./routes/waypoint_routes.ts";
import { checkWaypointStream, findWaypointGateway } from "./waypoint_authorization.ts";
import { WaypointTokens } from "./waypoint_tokens.ts";
import type { ConfigStore } from "./store/config_store.ts";
import { writeFileDurably } from "./store/durable_file.ts";
import { openStore } from "./store/open_store.ts";
import { PersistentVips } from "./store/persistent_vips.ts";
import { shareSecrets } from "./store/shared_secrets.ts";

/** A running controlplane. */
export interface Controlplane {
  readonly config: ControlplaneConfig;
  /** `https://ip:port` of the TLS endpoint. */
  readonly url: string;
  /** `http://ip:port` of the dev endpoint, when on. */
  readonly devUrl?: string;
  readonly adminToken: string;
  /** PEM roots: what clients verify the controlplane's certificate with. */
  readonly rootCertPem: string;
  readonly store: ConfigStore;
  readonly log: Logger;
  stop(): Promise<void>;
}

/** Starts a controlplane. */
export async function startControlplane(config: ControlplaneConfig, options: { log?: Logger } = {}): Promise<Controlplane> {
  const log = options.log ?? new Logger({ level: config.logLevel, format: config.logFormat });
  fs.mkdirSync(config.stateDir, { recursive: true });
  const store = await openStore(config, (message, fields) => log.warn("kubernetes", message, fields));
  const adminTokenFile = path.join(config.stateDir, "admin-token");
  const caOptions = { dir: config.caDir, trustDomain: config.trustDomain, maxTtlSeconds: config.maxCertTtl };
  // Replicas on one store share the CA and the admin token; a lone file store keeps its own files.
  const adminToken = config.store
    ? await shareSecrets(store.records("shared"), {
      caDir: config.caDir, defaultCaDir: config.caDir === path.join(config.stateDir, "ca"), adminTokenFile,
      createCa: async () => void await CertificateAuthority.loadOrCreate(caOptions),
    })
    : loadOrCreateAdminToken(adminTokenFile);
  const nodes = new NodeRegistry(store.records("nodes"));
  const waypointTokens = new WaypointTokens(store.records("waypoint-tokens"));
  const ca = await CertificateAuthority.loadOrCreate(caOptions);
  // A bad mesh config stops the start with the file and field named: CUSTOM policies would otherwise fail closed unseen.
  const mesh = config.meshConfig
    ? parseMeshConfig(config.meshConfig, fs.readFileSync(config.meshConfig, "utf8"))
    : { extAuthzProviders: [], tracingProviders: [], defaultTracingProviders: [], warnings: [] };
  for (const warning of mesh.warnings) log.warn("config", "mesh config", { warning });
  const vips = new PersistentVips(store, config.vipRange);
  const dataplane = new DataPlane({ ...config, allocateVip: vips.allocate, trustBundle: () => ca.trustBundlePem, revokedSerials: () => nodes.revokedSerials(), extAuthzProviders: mesh.extAuthzProviders, meshTracing: mesh });
  const metrics = controlplaneMetrics(() => xds.status());
  const xds = new DeltaXdsServer({
    resourcesFor: (node) => dataplane.desired(node),
    systemVersion: () => String(store.revision),
    onEvent: (event, fields) => log.info("xds", event, fields),
    keepaliveMs: config.xdsKeepalive * 1000,
    observer: metrics.xds,
  });
  const retranslate = serialized(async () => {
    dataplane.update(store.list());
    // New VIPs are claimed in the store before they are pushed; losing a race means translating again.
    for (let round = 0; round < 3 && await vips.settle(); round++) dataplane.update(store.list());
    xds.notifyChanged();
    await store.publishStatus?.((o) => dataplane.statusOf(objectKey(o)));
  }, (e) => log.error("controlplane", "translation failed", { error: (e as Error).message }));
  await retranslate();
  store.onChange(() => void retranslate());
  vips.onChange(() => void retranslate());
  if (config.configDir) await applyConfigDir(config.configDir, store, log);

  const app = new Hono<{ Bindings: RequestEnv; Variables: { caller: Caller } }>();
  const identify = (req: Request, env: unknown) => identifyCaller(req, env as RequestEnv, { adminToken, trustDomain: config.trustDomain, nodes, waypointTokens });
  app.use("*", async (c, next) => {
    c.set("caller", identify(c.req.raw, c.env));
    await next();
  });
  app.use("/api/v1/*", async (c, next) => {
    const caller = c.get("caller");
    if (caller.kind === "admin" || caller.kind === "dev") return next();
    if (caller.kind === "node") return c.json({ error: `node ${caller.node} may not use the admin API` }, 403);
    if (caller.kind === "waypoint") return c.json({ error: `waypoint ${caller.waypoint} may not use the admin API` }, 403);
    return c.json({ error: caller.reason ?? "the admin API needs the admin token (Authorization: Bearer <token>)" }, 401);
  });
  app.get("/healthz/ready", (c) => c.text("ready\n"));
  app.get("/version", (c) => c.json({ component: "controlplane", version: AMBIT_VERSION }));
  app.route("/", configRoutes(store, dataplane));
  app.route("/", nodeRoutes(nodes, ca, xds, { joinTokenTtl: config.joinTokenTtl, reviewNodeToken: store.reviewNodeToken?.bind(store) }));
  // A revocation through any replica (this one included) reaches this one through the store.
  nodes.onRevoked((node) => {
    xds.closeNode(node);
    dataplane.refreshTrustBundle();
    xds.notifyChanged();
  });
  app.route("/", caRoutes(ca, dataplane, nodes, log));
  app.route("/", waypointRoutes(waypointTokens, dataplane, xds, config.trustDomain));
  app.route("/", xdsRoutes(xds, (req, env, node) => {
    const caller = identify(req, env);
    const waypointRefusal = checkWaypointStream(caller, node);
    if (waypointRefusal || caller.kind === "waypoint") return waypointRefusal;
    if (caller.kind === "dev") return undefined;
    if (caller.kind === "node") return caller.node === node.nodeName ? undefined : `node ${caller.node} may not subscribe as ${node.nodeName}`;
    return caller.kind === "anonymous" && caller.reason ? caller.reason : "xDS needs a node certificate";
  }));
  app.onError((e, c) => {
    log.error("api", "request failed", { path: c.req.path, error: e.message });
    const code = (e as { code?: string }).code;
    if (code === "ERR_STORE_UNAVAILABLE" || code === "ERR_STORE_READ_ONLY") return c.json({ error: e.message, code }, code === "ERR_STORE_READ_ONLY" ? 405 : 503);
    return c.json({ error: e.message }, 500);
  });

  const admit = (head: RequestHead, env: RequestEnv) => admitRequest(head, env, { adminToken, trustDomain: config.trustDomain, nodes, waypointTokens, reviewsServiceAccountTokens: !!store.reviewNodeToken });

  // The serving certificate names the controlplane, never a workload or node.
  const request = await createUriCertificateRequest(controlplaneUri(config.trustDomain));
  const serving = await ca.signUri(request.csrPem, controlplaneUri(config.trustDomain), config.maxCertTtl);
  const listeners: Http2Listener[] = [];
  const tlsAt = splitHostPort(config.listen);
  listeners.push(await serveHttp2({
    hostname: tlsAt.address,
    port: tlsAt.port,
    fetch: (req, env) => app.fetch(req, env),
    admit,
    pingIntervalMs: config.xdsKeepalive * 1000,
    maxConnectionsPerPeer: config.maxConnectionsPerPeer,
    tls: { cert: joinPem(serving.chainPem), key: request.key.privateKeyPem, ca: joinPem(ca.trustBundlePem) },
  }));
  const url = `https://${config.listen.replace(/:\d+$/, `:${listeners[0]!.port}`)}`;
  let devUrl: string | undefined;
  if (config.devListen) {
    const devAt = splitHostPort(config.devListen);
    const dev = await serveHttp2({
      hostname: devAt.address,
      port: devAt.port,
      fetch: (req, env) => app.fetch(req, { ...env, dev: true }),
      admit: (head, env) => admit(head, { ...env, dev: true }),
      pingIntervalMs: config.xdsKeepalive * 1000,
    });
    listeners.push(dev);
    devUrl = `http://${devAt.address}:${dev.port}`;
    log.warn("controlplane", "dev listener: NO authentication on this loopback endpoint", { url: devUrl });
  }
  let metricsServer: HttpServer | undefined;
  if (config.metricsListen) {
    const at = splitHostPort(config.metricsListen);
    const served = metricsRoutes(metrics.registry).route("/", serviceDiscoveryRoutes(() => xds.status(), () => store.list()));
    metricsServer = serveHttp({ hostname: at.address, port: at.port, fetch: served.fetch });
  }
  const dashboard = config.dashboardListen ? startDashboard({
    snapshot: () => dataplane.snapshot,
    targets: () => serviceDiscoveryTargets(xds.status(), (ns, name) => findWaypointGateway(store.list(), `${ns}/${name}`) !== undefined),
    prometheusUrl: config.prometheusUrl || undefined,
    scrapeIntervalMs: config.dashboardScrapeInterval * 1000,
    windowSeconds: config.dashboardWindow,
  }) : undefined;
  let dashboardServer: HttpServer | undefined;
  if (dashboard) {
    const at = splitHostPort(config.dashboardListen);
    dashboardServer = serveHttp({ hostname: at.address, port: at.port, fetch: graphRoutes(dashboard).fetch });
    log.info("controlplane", "service graph", { url: `http://${config.dashboardListen}/`, rates: config.prometheusUrl || "the data plane's /metrics" });
  }
  log.info("controlplane", "ready", { url, devUrl, version: AMBIT_VERSION, stateDir: config.stateDir, store: store.description, objects: store.list().length });
  return {
    config,
    url,
    devUrl,
    adminToken,
    rootCertPem: joinPem(ca.trustBundlePem),
    store,
    log,
    stop: async () => {
      xds.close();
      await Promise.all([...listeners.map((l) => l.close()), metricsServer?.stop(), dashboardServer?.stop(), dashboard?.stop()]);
      await store.close();
    },
  };
}

function loadOrCreateAdminToken(file: string): string {
  if (fs.existsSync(file)) return fs.readFileSync(file, "utf8").trim();
  const token = randomBytes(32).toString("base64url");
  writeFileDurably(file, token + "\n", 0o600);
  return token;
}

/** Applies each YAML/JSON file of the config directory; a bad file is reported and skipped. */
async function applyConfigDir(dir: string, store: ConfigStore, log: Logger): Promise<void> {
  for (const name of fs.readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort()) {
    const file = path.join(dir, name);
    try {
      const { objects } = parseConfig(fs.readFileSync(file, "utf8"), file);
      await store.apply(objects, `config-dir:${file}`);
    } catch (e) {
      log.error("config", "config file rejected", { file, error: e instanceof ConfigError ? e.message : (e as Error).message });
    }
  }
}

/** Runs `task` one at a time; a call while it runs schedules exactly one more run after it. */
function serialized(task: () => Promise<void>, onError: (e: unknown) => void): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  const run = async (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await task().catch(onError);
      } while (again);
    })();
    await running;
    running = undefined;
  };
  return run;
}
