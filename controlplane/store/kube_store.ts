/**
 * Kubernetes mode (docs/kubernetes.md): the objects are the API server's. One
 * list/watch per kind the controlplane reads (@kubernetes/client-node's
 * ListWatch: list, then watch from the list's resourceVersion; on 410 Gone it
 * lists again and reports what disappeared meanwhile as deletions), feeding the
 * same translation as the embedded store. Config is changed with kubectl, so
 * apply and delete here are refused. Records (node registry, VIPs) stay in files
 * under the state directory.
 *
 * @example
 * ```ts
 * const store = await KubeStore.open("/etc/kubeconfig", ".ambit/controlplane", log);
 * ```
 * @module
 */
import * as os from "node:os";
import * as path from "node:path";
import { KubeConfig, KubernetesObjectApi, type KubernetesObject, ListWatch, Watch } from "@kubernetes/client-node";
import { AmbitError } from "../../errors/mod.ts";
import { AMBIT_VERSION } from "../../telemetry/build_info.ts";
import { findKind } from "../../config/kinds/mod.ts";
import { type Condition, type KubeObject, objectKey } from "../../config/objects.ts";
import { ObjectView } from "./_object_view.ts";
import type { ConfigStore, ObjectChange, RecordCollection } from "./config_store.ts";
import { KubeApiClient, LeaseElection, writeStatuses } from "./kube_status.ts";
import { reviewNodeToken } from "./kube_token_review.ts";
import { reconcileWaypoints } from "./kube_waypoints.ts";
import { ObjectStore } from "./object_store.ts";

/** What the controlplane lists and watches: [apiVersion, kind, REST path]. */
export const WATCHED_KINDS: readonly (readonly [string, string, string])[] = [
  ["v1", "Namespace", "/api/v1/namespaces"],
  ["v1", "Pod", "/api/v1/pods"],
  ["v1", "Service", "/api/v1/services"],
  ["v1", "ServiceAccount", "/api/v1/serviceaccounts"],
  ["security.istio.io/v1", "AuthorizationPolicy", "/apis/security.istio.io/v1/authorizationpolicies"],
  ["security.istio.io/v1", "PeerAuthentication", "/apis/security.istio.io/v1/peerauthentications"],
  ["security.istio.io/v1", "RequestAuthentication", "/apis/security.istio.io/v1/requestauthentications"],
  ["networking.istio.io/v1", "ServiceEntry", "/apis/networking.istio.io/v1/serviceentries"],
  ["networking.istio.io/v1", "WorkloadEntry", "/apis/networking.istio.io/v1/workloadentries"],
  ["gateway.networking.k8s.io/v1", "Gateway", "/apis/gateway.networking.k8s.io/v1/gateways"],
  ["gateway.networking.k8s.io/v1", "HTTPRoute", "/apis/gateway.networking.k8s.io/v1/httproutes"],
  ["gateway.networking.k8s.io/v1", "GRPCRoute", "/apis/gateway.networking.k8s.io/v1/grpcroutes"],
  ["gateway.envoyproxy.io/v1alpha1", "BackendTrafficPolicy", "/apis/gateway.envoyproxy.io/v1alpha1/backendtrafficpolicies"],
  ["telemetry.istio.io/v1", "Telemetry", "/apis/telemetry.istio.io/v1/telemetries"],
];

/** Config objects from the Kubernetes API; records in files. */
export class KubeStore extends ObjectView implements ConfigStore {
  readonly #informers: ListWatch<KubernetesObject>[] = [];
  readonly #records: ObjectStore;
  #revision = 0;
  #stopped = false;
  #lease: LeaseElection | undefined;
  #client: KubeApiClient | undefined;
  #ztunnelServiceAccounts: readonly string[] = [];
  /** The image of the waypoint Deployments this replica makes. */
  waypointImage = `localhost/ambit/waypoint:${AMBIT_VERSION}`;
  /** This replica's name in the Lease and as the fieldManager of its status writes. */
  readonly identity = process.env.POD_NAME || `${os.hostname()}-${process.pid}`;

  private constructor(readonly description: string, stateDir: string, private readonly log: (message: string, fields: Record<string, unknown>) => void) {
    super();
    this.#records = ObjectStore.open(path.join(stateDir, "store"), stateDir);
  }

  /**
   * Loads the kubeconfig (`in-cluster` for the pod's ServiceAccount), lists every kind, starts watching,
   * and joins the election of the status writer (Lease `ambit-controlplane` in $POD_NAMESPACE, else the
   * kubeconfig's namespace, else ambit-system).
   */
  static async open(
    kubeconfig: string, stateDir: string, log: (message: string, fields: Record<string, unknown>) => void, leaseSeconds = 15,
    ztunnelServiceAccounts: readonly string[] = ["ambit-system/ambit-ztunnel"],
  ): Promise<KubeStore> {
    const kc = new KubeConfig();
    if (kubeconfig === "in-cluster") kc.loadFromCluster();
    else kc.loadFromFile(kubeconfig);
    const store = new KubeStore(`kubernetes:${kc.getCurrentCluster()?.server ?? kubeconfig}`, stateDir, log);
    const api = KubernetesObjectApi.makeApiClient(kc);
    const watch = new Watch(kc);
    await Promise.all(WATCHED_KINDS.map(([apiVersion, kind, restPath]) => store.#watch(watch, restPath, () => api.list(apiVersion, kind), kind)));
    store.#client = new KubeApiClient(kc);
    store.#ztunnelServiceAccounts = ztunnelServiceAccounts;
    const namespace = process.env.POD_NAMESPACE || kc.getContextObject(kc.getCurrentContext())?.namespace || "ambit-system";
    store.#lease = new LeaseElection(store.#client, { namespace, name: "ambit-controlplane", identity: store.identity, durationSeconds: leaseSeconds }, (leader) => {
      log(leader ? "holding the status Lease: this replica writes status" : "lost the status Lease", { identity: store.identity, namespace });
      if (leader) store.notify(); // write what is pending
    });
    await store.#lease.start();
    return store;
  }

  get revision(): number {
    return this.#revision;
  }

  /** One ListWatch; an error (a kind whose CRD is missing, the API server away) restarts it after a second. */
  async #watch(watch: Watch, restPath: string, list: () => Promise<{ items: KubernetesObject[]; metadata?: { resourceVersion?: string } }>, kind: string): Promise<void> {
    const informer = new ListWatch<KubernetesObject>(restPath, watch, list as never, false);
    // The API server checked only its own schema (Istio's CRDs here preserve unknown fields): an object the
    // intake would refuse is left out, with a warning, rather than fed to the translation.
    const put = (raw: KubernetesObject) => {
      const o = toKubeObject(raw, kind);
      const checked = findKind(o.apiVersion, o.kind)?.schema.safeParse(o);
      if (checked && !checked.success) {
        this.log("object refused: it does not validate", { object: `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`, error: checked.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") });
        return this.#changed(() => this.objects.delete(objectKey(o)));
      }
      this.#changed(() => this.objects.set(objectKey(o), o));
    };
    informer.on("add", put);
    informer.on("update", put);
    informer.on("delete", (o) => this.#changed(() => this.objects.delete(objectKey(toKubeObject(o, kind)))));
    informer.on("error", (e) => {
      this.log("list/watch failed; retrying in 1 s", { kind, error: (e as Error)?.message ?? String(e) });
      if (!this.#stopped) setTimeout(() => void informer.start().catch(() => undefined), 1000);
    });
    this.#informers.push(informer);
    await informer.start().catch((e) => this.log("first list failed; retrying", { kind, error: (e as Error).message }));
  }

  #changed(apply: () => void): void {
    apply();
    this.#revision++;
    this.notify();
  }

  async publishStatus(statusOf: (o: KubeObject) => readonly Condition[] | undefined): Promise<void> {
    if (!this.#lease?.leader || !this.#client) return;
    await writeStatuses(this.#client, this.list(), statusOf, itemPath, this.identity);
    // The same replica, for the same reason (one writer), makes each waypoint Gateway's Deployment and Service.
    await reconcileWaypoints(this.#client, this.list({ kind: "Gateway" }).filter((g) => g.apiVersion.startsWith("gateway.networking.k8s.io/")), this.waypointImage);
  }

  reviewNodeToken(token: string): Promise<{ node: string; who: string } | undefined> {
    return this.#client ? reviewNodeToken(this.#client, token, this.#ztunnelServiceAccounts) : Promise.resolve(undefined);
  }

  apply(): Promise<ObjectChange[]> {
    return Promise.reject(new KubeModeError());
  }

  delete(): Promise<ObjectChange[]> {
    return Promise.reject(new KubeModeError());
  }

  audit(): Promise<unknown[]> {
    return Promise.resolve([]);
  }

  records<T>(name: string): RecordCollection<T> {
    return this.#records.records<T>(name);
  }

  async close(): Promise<void> {
    this.#stopped = true;
    this.#lease?.stop();
    await Promise.all(this.#informers.map((i) => i.stop()));
  }
}

/** In Kubernetes mode config changes go to the API server (HTTP 405). */
export class KubeModeError extends AmbitError {
  constructor() {
    super("ERR_STORE_READ_ONLY", "this controlplane reads its config from the Kubernetes API: change it there (kubectl apply / delete)");
  }
}

/**
 * The API object as the intake and translation read it: plain JSON (client-node turns timestamps into
 * Dates), with the apiVersion and kind that list items leave out.
 */
function toKubeObject(o: KubernetesObject, kind: string): KubeObject {
  const found = WATCHED_KINDS.find(([, k]) => k === kind)!;
  const plain = JSON.parse(JSON.stringify(o)) as KubeObject;
  return { ...plain, apiVersion: o.apiVersion ?? found[0], kind: o.kind ?? kind };
}

/** An object's REST path: its kind's collection path, with the namespace and the name put in. */
function itemPath(o: KubeObject): string {
  const restPath = WATCHED_KINDS.find(([apiVersion, kind]) => kind === o.kind && apiVersion.split("/")[0] === o.apiVersion.split("/")[0])?.[2] ?? "";
  const slash = restPath.lastIndexOf("/");
  const [prefix, plural] = [restPath.slice(0, slash), restPath.slice(slash + 1)];
  return o.metadata.namespace ? `${prefix}/namespaces/${o.metadata.namespace}/${plural}/${o.metadata.name}` : `${prefix}/${plural}/${o.metadata.name}`;
}
