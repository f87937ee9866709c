/**
 * Status write-back in Kubernetes mode, by one replica only: the holder of a
 * `coordination.k8s.io/v1` Lease (as Kubernetes' own controllers elect a
 * leader). Each replica tries to take the Lease when it is free or its holder
 * stopped renewing it; every write is compare-and-swap on the Lease's
 * resourceVersion, so two replicas racing for it end with one holder. The
 * holder merge-patches `status.conditions` of each object whose computed
 * conditions differ from what the API server has; `lastTransitionTime` moves
 * only when a condition's status does, so writing converges (a second pass
 * finds nothing to write).
 *
 * @example
 * ```ts
 * const lease = new LeaseElection(client, { namespace: "ambit-system", name: "ambit-controlplane", identity: "cp-1", durationSeconds: 15 });
 * await lease.start();
 * ```
 * @module
 */
import * as http from "node:http";
import * as https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import { canonicalJson } from "../../xds/protocol.ts";
import type { Condition, KubeObject } from "../../config/objects.ts";

/** Raw requests to the API server with the kubeconfig's credentials. */
export class KubeApiClient {
  constructor(private readonly kc: KubeConfig) {}

  async request(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<{ status: number; body: any }> {
    const server = new URL(this.kc.getCurrentCluster()!.server);
    const options: https.RequestOptions = { method, hostname: server.hostname, port: server.port, path, headers: { accept: "application/json", "content-type": contentType } };
    await this.kc.applyToHTTPSOptions(options);
    const transport = server.protocol === "https:" ? https : http;
    return await new Promise((resolve, reject) => {
      const req = transport.request(options, (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
      });
      req.on("error", reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }
}

/** Who this replica is and which Lease it competes for. */
export interface LeaseOptions {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly durationSeconds: number;
}

/** One replica's part in a Lease election. */
export class LeaseElection {
  #leader = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly client: KubeApiClient, private readonly options: LeaseOptions, private readonly onChange: (leader: boolean) => void = () => undefined) {}

  get leader(): boolean {
    return this.#leader;
  }

  /** Tries now, then renews (or tries again) three times per lease duration. */
  async start(): Promise<void> {
    await this.#attempt();
    this.#timer = setInterval(() => void this.#attempt(), (this.options.durationSeconds * 1000) / 3);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #attempt(): Promise<void> {
    const leader = await this.#tryAcquire().catch(() => false);
    if (leader !== this.#leader) {
      this.#leader = leader;
      this.onChange(leader);
    }
  }

  async #tryAcquire(): Promise<boolean> {
    const { namespace, name, identity, durationSeconds } = this.options;
    const base = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;
    const now = new Date().toISOString().replace(/Z$/, "000Z");
    const spec = { holderIdentity: identity, leaseDurationSeconds: durationSeconds, renewTime: now };
    const current = await this.client.request("GET", `${base}/${name}`);
    if (current.status === 404) {
      const created = await this.client.request("POST", base, { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name, namespace }, spec: { ...spec, acquireTime: now } });
      return created.status === 201;
    }
    if (current.status !== 200) return false;
    const held = current.body.spec ?? {};
    const expired = Date.parse(held.renewTime ?? 0) + (held.leaseDurationSeconds ?? durationSeconds) * 1000 < Date.now();
    if (held.holderIdentity !== identity && !expired) return false;
    const acquireTime = held.holderIdentity === identity ? held.acquireTime : now;
    const replaced = await this.client.request("PUT", `${base}/${name}`, { ...current.body, spec: { ...held, ...spec, acquireTime } });
    return replaced.status === 200;
  }
}

/** Conditions as the API server should have them: computed ones, keeping lastTransitionTime while a status holds. */
export function conditionsToWrite(existing: readonly Condition[] | undefined, computed: readonly Condition[], now: string): Condition[] | undefined {
  const merged = computed.map((c) => {
    const before = existing?.find((e) => e.type === c.type);
    return { ...c, lastTransitionTime: before && before.status === c.status && before.lastTransitionTime ? before.lastTransitionTime : now };
  });
  const strip = (cs: readonly Condition[] | undefined) => canonicalJson((cs ?? []).map(({ lastTransitionTime: _t, ...c }) => c));
  return strip(existing) === strip(merged) ? undefined : merged;
}

/** Patches `status.conditions` of each object whose computed conditions changed; returns how many it wrote. */
export async function writeStatuses(
  client: KubeApiClient, objects: readonly KubeObject[], statusOf: (o: KubeObject) => readonly Condition[] | undefined, itemPath: (o: KubeObject) => string, fieldManager: string,
): Promise<number> {
  let written = 0;
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  for (const o of objects) {
    const computed = statusOf(o);
    if (!computed) continue;
    const conditions = conditionsToWrite((o.status as { conditions?: Condition[] } | undefined)?.conditions, computed, now);
    if (!conditions) continue;
    const res = await client.request("PATCH", `${itemPath(o)}/status?fieldManager=${encodeURIComponent(fieldManager)}`, { status: { conditions } }, "application/merge-patch+json");
    if (res.status === 200) written++;
  }
  return written;
}
