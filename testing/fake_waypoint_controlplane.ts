// A stand-in controlplane for the waypoint's xDS mode, in the test process:
// the real one's waypoint support (translation, per-proxy views, the CA's
// waypoint caller) is built separately, so this serves the agreed contract
// only — delta xDS with Workload, Service and ServiceRoutes for a node whose
// metadata says role=waypoint, and `POST /ca/v1/certificates {csr,
// validitySeconds, waypoint}` that signs only the Gateway's own identity.
import { Hono } from "hono";
import { CertificateAuthority, checkCsr, formatSpiffeId } from "../identity/mod.ts";
import { serveHttp2 } from "../runtime/http2_server.ts";
import { resourceVersion, TYPE_URLS, type TypeUrl, type XdsNode, type XdsResource } from "../xds/protocol.ts";
import { serviceKey } from "../xds/resources.ts";
import { xdsRoutes } from "../xds/http_routes.ts";
import { DeltaXdsServer } from "../xds/server.ts";
import { EXT_AUTHZ_PROVIDER_TYPE_URL, SERVICE_L7_POLICY_TYPE_URL } from "../xds/l7_policy_resource_schemas.ts";
import { SERVICE_ROUTES_TYPE_URL } from "../xds/waypoint_resource_schemas.ts";
import { SERVICE_TELEMETRY_TYPE_URL } from "../xds/telemetry_resources.ts";
import type { WaypointSnapshot } from "../xds/waypoint_resources.ts";

/** Starts the stand-in on `address` (cleartext h2c, the dev listener's form). */
export async function startFakeWaypointControlplane(address: string, caDir: string, initial: WaypointSnapshot) {
  const ca = await CertificateAuthority.loadOrCreate({ dir: caDir, trustDomain: "cluster.local" });
  let snapshot = initial;
  const nodes: XdsNode[] = [];
  const certificateRequests: { waypoint?: string; identity?: string; status: number }[] = [];
  const resources = <T>(items: readonly T[], name: (t: T) => string) =>
    new Map(items.map((r) => [name(r), { name: name(r), version: resourceVersion(r), resource: r } as XdsResource]));
  const xds = new DeltaXdsServer({
    debounceMs: 10,
    resourcesFor: (node) => {
      nodes.push(node);
      if (node.metadata?.role !== "waypoint") return new Map();
      return new Map<TypeUrl, ReadonlyMap<string, XdsResource>>([
        [TYPE_URLS.workload, resources(snapshot.workloads, (w) => w.uid)],
        [TYPE_URLS.service, resources(snapshot.services, serviceKey)],
        [SERVICE_ROUTES_TYPE_URL as unknown as TypeUrl, resources(snapshot.routes, (r) => r.service)],
        [SERVICE_L7_POLICY_TYPE_URL as unknown as TypeUrl, resources(snapshot.l7Policies ?? [], (p) => p.service)],
        [EXT_AUTHZ_PROVIDER_TYPE_URL as unknown as TypeUrl, resources(snapshot.extAuthzProviders ?? [], (p) => p.name)],
        [SERVICE_TELEMETRY_TYPE_URL as unknown as TypeUrl, resources(snapshot.telemetry ?? [], (t) => t.service)],
      ]);
    },
  });
  const app = new Hono();
  app.route("/", xdsRoutes(xds, () => undefined));
  app.post("/ca/v1/certificates", async (c) => {
    const body = await c.req.json<{ csr: string; validitySeconds: number; waypoint?: string }>();
    const identity = formatSpiffeId((await checkCsr(body.csr)).identity);
    const [ns, name] = (body.waypoint ?? "").split("/");
    if (identity !== `spiffe://cluster.local/ns/${ns}/sa/${name}`) {
      certificateRequests.push({ waypoint: body.waypoint, identity, status: 403 });
      return c.json({ error: `waypoint ${body.waypoint} may not hold ${identity}` }, 403);
    }
    const issued = await ca.sign(body.csr, body.validitySeconds);
    certificateRequests.push({ waypoint: body.waypoint, identity, status: 200 });
    return c.json({ certChain: issued.chainPem, notAfter: issued.notAfter.toISOString() });
  });
  const listener = await serveHttp2({ hostname: address, port: 0, fetch: app.fetch });
  return {
    url: `http://${address}:${listener.port}`,
    nodes,
    certificateRequests,
    status: () => xds.status(),
    update(next: WaypointSnapshot) {
      snapshot = next;
      xds.notifyChanged();
    },
    close: async () => {
      xds.close();
      await listener.close();
    },
  };
}
