/**
 * A small Kubernetes API server for tests, because no real one can be installed
 * here (TEST_PEERS.md). It implements what kubectl 1.32 and
 * @kubernetes/client-node use, and tests check it with both: discovery
 * (`/version`, `/api`, `/apis`, `/api/v1`, `/apis/G/V`), list (`limit`
 * ignored: one page), get, create, patch (merge-patch; strategic-merge-patch is
 * treated as merge-patch, which is what it does for the fields tests touch),
 * replace, the status subresource (PATCH), TokenReview (for tokens a test
 * registers with `addToken`), delete (returns the object), and watch from a resourceVersion —
 * chunked JSON lines, headers flushed at once, BOOKMARKs when asked for. One
 * global resourceVersion counter, as etcd's revision. `compact()` forgets the
 * history and ends open watches, so a client resuming from an older version
 * gets 410 Gone and must relist. No openapi (run kubectl with
 * `--validate=false`), no auth, no field or label selectors, no admission, no
 * controllers (a Deployment stays a stored object; a CRD adds no resource).
 *
 * @example
 * ```ts
 * const api = await startKubeApiServer("127.0.0.5");
 * fs.writeFileSync(kubeconfig, api.kubeconfig());
 * ```
 * @module
 */
import * as http from "node:http";

/** A resource the server serves. */
interface Resource { group: string; version: string; kind: string; plural: string; namespaced: boolean }

const RESOURCES: Resource[] = [
  { group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false },
  ...["Pod", "Service", "ServiceAccount"].map((kind) => ({ group: "", version: "v1", kind, plural: kind.toLowerCase() + "s", namespaced: true })),
  { group: "discovery.k8s.io", version: "v1", kind: "EndpointSlice", plural: "endpointslices", namespaced: true },
  { group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", namespaced: true },
  ...["AuthorizationPolicy", "PeerAuthentication", "RequestAuthentication"].map((kind) => ({ group: "security.istio.io", version: "v1", kind, plural: kind.toLowerCase().replace(/y$/, "ie") + "s", namespaced: true })),
  { group: "networking.istio.io", version: "v1", kind: "ServiceEntry", plural: "serviceentries", namespaced: true },
  { group: "networking.istio.io", version: "v1", kind: "WorkloadEntry", plural: "workloadentries", namespaced: true },
  { group: "telemetry.istio.io", version: "v1", kind: "Telemetry", plural: "telemetries", namespaced: true },
  ...["Gateway", "HTTPRoute", "GRPCRoute"].map((kind) => ({ group: "gateway.networking.k8s.io", version: "v1", kind, plural: kind.toLowerCase() + "s", namespaced: true })),
  { group: "gateway.envoyproxy.io", version: "v1alpha1", kind: "BackendTrafficPolicy", plural: "backendtrafficpolicies", namespaced: true },
  // What the install manifests (containers/kubernetes/) hold.
  ...["ConfigMap", "Secret", "PersistentVolumeClaim"].map((kind) => ({ group: "", version: "v1", kind, plural: kind.toLowerCase() + "s", namespaced: true })),
  ...["Deployment", "DaemonSet"].map((kind) => ({ group: "apps", version: "v1", kind, plural: kind.toLowerCase() + "s", namespaced: true })),
  ...[["ClusterRole", false], ["ClusterRoleBinding", false], ["Role", true], ["RoleBinding", true]].map(([kind, namespaced]) => ({ group: "rbac.authorization.k8s.io", version: "v1", kind: kind as string, plural: (kind as string).toLowerCase() + "s", namespaced: namespaced as boolean })),
  { group: "apiextensions.k8s.io", version: "v1", kind: "CustomResourceDefinition", plural: "customresourcedefinitions", namespaced: false },
  { group: "authentication.k8s.io", version: "v1", kind: "TokenReview", plural: "tokenreviews", namespaced: false },
];
const apiVersionOf = (r: Resource) => (r.group ? `${r.group}/${r.version}` : r.version);

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string; creationTimestamp?: string; [k: string]: unknown }; [k: string]: unknown };
interface Event { rv: number; type: "ADDED" | "MODIFIED" | "DELETED"; object: Obj; resource: Resource }
interface Watcher { resource: Resource; namespace?: string; res: http.ServerResponse; bookmarks: boolean }

/** A running fake API server. */
export interface KubeApiServer {
  readonly url: string;
  /** A kubeconfig for it (client-node needs insecure-skip-tls-verify to accept plain http). */
  kubeconfig(): string;
  /** Forgets the event history and ends every watch: resuming from an older version gets 410 Gone. */
  compact(): void;
  /** Every request seen, `METHOD path?query`. */
  readonly requests: string[];
  objects(kind: string): Obj[];
  /** Makes `token` one TokenReview vouches for: a ServiceAccount's, bound to a pod on `node`, for `audiences`. */
  addToken(token: string, who: { serviceAccount: string; node: string; audiences: string[] }): void;
  close(): Promise<void>;
}

/** Starts the server on `address` (port 0: any). */
export async function startKubeApiServer(address: string, port = 0): Promise<KubeApiServer> {
  const store = new Map<string, Obj>();
  const history: Event[] = [];
  const watchers = new Set<Watcher>();
  const requests: string[] = [];
  const tokens = new Map<string, { serviceAccount: string; node: string; audiences: string[] }>();
  let revision = 1;
  let compactedAt = 0;
  const keyOf = (r: Resource, ns: string | undefined, name: string) => `${r.plural}.${r.group}/${ns ?? ""}/${name}`;
  const status = (code: number, reason: string, message: string) => ({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code });

  const record = (type: Event["type"], object: Obj, resource: Resource) => {
    const event = { rv: Number(object.metadata.resourceVersion), type, object, resource };
    history.push(event);
    for (const w of watchers) if (w.resource === resource && (!w.namespace || w.namespace === object.metadata.namespace)) w.res.write(JSON.stringify({ type, object }) + "\n");
  };
  const write = (resource: Resource, obj: Obj, type: "ADDED" | "MODIFIED") => {
    const stored = { ...obj, apiVersion: apiVersionOf(resource), kind: resource.kind, metadata: { ...obj.metadata, resourceVersion: String(++revision) } };
    store.set(keyOf(resource, obj.metadata.namespace, obj.metadata.name), stored);
    record(type, stored, resource);
    return stored;
  };

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const body = await new Promise<string>((r) => {
      let b = "";
      req.on("data", (c) => (b += c));
      req.on("end", () => r(b));
    });
    const send = (code: number, value: unknown) => {
      res.writeHead(code, { "content-type": "application/json" });
      res.end(JSON.stringify(value));
    };
    const p = url.pathname.replace(/\/$/, "");
    if (p === "/version") return send(200, { major: "1", minor: "32", gitVersion: "v1.32.0", platform: "linux/amd64" });
    if (p === "/api") return send(200, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] });
    const groups = [...new Set(RESOURCES.filter((r) => r.group).map((r) => r.group))];
    if (p === "/apis") {
      return send(200, { kind: "APIGroupList", apiVersion: "v1", groups: groups.map((g) => ({ name: g, versions: [{ groupVersion: `${g}/v1`, version: "v1" }], preferredVersion: { groupVersion: `${g}/v1`, version: "v1" } })) });
    }
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?(?:\/([^/]+))?(?:\/([^/]+))?(\/status)?$/.exec(p);
    if (!m) return send(404, status(404, "NotFound", `the server could not find the requested resource (${p})`));
    const [group, version] = m[1] ? ["", "v1"] : [m[2]!, m[3]!];
    let [namespace, plural, name] = [m[4], m[5], m[6]];
    if (!plural && !namespace) {
      const resources = RESOURCES.filter((r) => r.group === group && r.version === version);
      if (resources.length === 0) return send(404, status(404, "NotFound", `no group version ${group}/${version}`));
      return send(200, {
        kind: "APIResourceList", apiVersion: "v1", groupVersion: group ? `${group}/${version}` : "v1",
        resources: resources.map((r) => ({ name: r.plural, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: ["create", "delete", "get", "list", "patch", "update", "watch"] })),
      });
    }
    // /api/v1/namespaces/<name> is the Namespace itself, not a namespace scope.
    if (namespace && !plural && group === "" ) [plural, name, namespace] = ["namespaces", namespace, undefined];
    else if (namespace && plural === undefined) return send(404, status(404, "NotFound", p));
    const resource = RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
    if (!resource) return send(404, status(404, "NotFound", `the server could not find the requested resource (${plural})`));
    if (!resource.namespaced) namespace = undefined;
    const what = `${resource.plural}${resource.group ? `.${resource.group}` : ""} "${name}"`;

    if (!name && req.method === "GET" && url.searchParams.get("watch") === "true") {
      const from = Number(url.searchParams.get("resourceVersion") || revision);
      res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
      res.flushHeaders();
      if (from < compactedAt) {
        res.end(JSON.stringify({ type: "ERROR", object: status(410, "Expired", `too old resource version: ${from} (${compactedAt})`) }) + "\n");
        return;
      }
      const w: Watcher = { resource, namespace, res, bookmarks: url.searchParams.get("allowWatchBookmarks") === "true" };
      for (const e of history) if (e.rv > from && e.resource === resource && (!namespace || e.object.metadata.namespace === namespace)) res.write(JSON.stringify({ type: e.type, object: e.object }) + "\n");
      if (w.bookmarks) res.write(JSON.stringify({ type: "BOOKMARK", object: { kind: resource.kind, apiVersion: apiVersionOf(resource), metadata: { resourceVersion: String(revision) } } }) + "\n");
      watchers.add(w);
      req.on("close", () => watchers.delete(w));
      return;
    }
    if (!name && req.method === "GET") {
      const items = [...store.values()].filter((o) => o.kind === resource.kind && o.apiVersion === apiVersionOf(resource) && (!namespace || o.metadata.namespace === namespace));
      return send(200, { kind: `${resource.kind}List`, apiVersion: apiVersionOf(resource), metadata: { resourceVersion: String(revision) }, items });
    }
    const parsed = body ? JSON.parse(body) as Obj : undefined;
    if (resource.kind === "TokenReview" && req.method === "POST") {
      const spec = (parsed as unknown as { spec: { token: string; audiences?: string[] } }).spec;
      const known = tokens.get(spec.token);
      const audiences = (spec.audiences ?? []).filter((a) => known?.audiences.includes(a));
      const ok = !!known && (!spec.audiences?.length || audiences.length > 0);
      return send(201, { ...parsed, status: ok
        ? { authenticated: true, audiences, user: { username: `system:serviceaccount:${known!.serviceAccount.replace("/", ":")}`, extra: { "authentication.kubernetes.io/node-name": [known!.node] } } }
        : { authenticated: false, error: "invalid bearer token" } });
    }
    if (!name && req.method === "POST") {
      const n = parsed!.metadata.name;
      if (store.has(keyOf(resource, namespace, n))) return send(409, status(409, "AlreadyExists", `${resource.plural} "${n}" already exists`));
      return send(201, write(resource, { ...parsed!, metadata: { ...parsed!.metadata, namespace, uid: crypto.randomUUID(), creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z") } }, "ADDED"));
    }
    const key = keyOf(resource, namespace, name!);
    const current = store.get(key);
    if (!current) return send(404, status(404, "NotFound", `${what} not found`));
    if (req.method === "GET") return send(200, current);
    // The status subresource takes only status; the object itself, everything but.
    if (m[7] && req.method === "PATCH") return send(200, write(resource, { ...current, status: mergePatch(current.status, (parsed as { status?: unknown }).status) }, "MODIFIED"));
    if (req.method === "PATCH") return send(200, write(resource, { ...(mergePatch(current, parsed) as Obj), status: current.status }, "MODIFIED"));
    if (req.method === "PUT") {
      if (parsed!.metadata.resourceVersion && parsed!.metadata.resourceVersion !== current.metadata.resourceVersion) return send(409, status(409, "Conflict", `Operation cannot be fulfilled on ${what}: the object has been modified`));
      return send(200, write(resource, { ...parsed!, metadata: { ...parsed!.metadata, uid: current.metadata.uid, creationTimestamp: current.metadata.creationTimestamp } }, "MODIFIED"));
    }
    if (req.method === "DELETE") {
      store.delete(key);
      const gone = { ...current, metadata: { ...current.metadata, resourceVersion: String(++revision) } };
      record("DELETED", gone, resource);
      return send(200, gone);
    }
    send(405, status(405, "MethodNotAllowed", `${req.method} not supported`));
  });
  await new Promise<void>((r) => server.listen(port, address, () => r()));
  const url = `http://${address}:${(server.address() as { port: number }).port}`;
  return {
    url,
    requests,
    kubeconfig: () => `apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: "${url}", insecure-skip-tls-verify: true}}]
users: [{name: test, user: {token: test}}]
contexts: [{name: test, context: {cluster: test, user: test, namespace: default}}]
current-context: test
`,
    compact: () => {
      compactedAt = revision + 1;
      history.length = 0;
      for (const w of watchers) w.res.end();
      watchers.clear();
    },
    objects: (kind) => [...store.values()].filter((o) => o.kind === kind),
    addToken: (token, who) => void tokens.set(token, who),
    close: () => new Promise<void>((r) => {
      for (const w of watchers) w.res.end();
      server.close(() => r());
      server.closeAllConnections?.();
    }),
  };
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target && typeof target === "object" && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
