/**
 * Waypoints in `ambit dev`: every istio-waypoint Gateway in the store gets a
 * waypoint process on its own loopback address (127.0.30.<n>), registered as a
 * WorkloadEntry instance of the Gateway (label gateway.networking.k8s.io/gateway-name,
 * on the first node) so ztunnels send its Services' traffic there. A Gateway
 * deleted from the store stops its process and removes the entry. The store is
 * looked at every `intervalMs`; a dev convenience, not a controller.
 *
 * @example
 * ```ts
 * const waypoints = new DevWaypoints(plan, supervisor, cp, io);
 * await waypoints.sync();   // start what the store asks for now
 * waypoints.watch();        // and follow its changes until the supervisor stops
 * ```
 * @module
 */
import * as path from "node:path";
import type { KubeObject } from "../../config/objects.ts";
import type { ControlplaneClient } from "../controlplane_client.ts";
import type { Io } from "../io.ts";
import { serviceCommand } from "./launcher.ts";
import type { DevPlan } from "./plan.ts";
import { httpReady, waitUntil } from "./readiness.ts";
import type { Child, Supervisor } from "./supervisor.ts";

export const DEV_WAYPOINT_PREFIX = "127.0.30.";
const MAX_WAYPOINTS = 250;

/** A running dev waypoint. */
export interface DevWaypoint {
  readonly key: string;
  readonly address: string;
  readonly child: Child;
}

/** The WorkloadEntry that makes a dev waypoint process an instance of its Gateway. */
export function waypointEntry(namespace: string, name: string, address: string, node: string): KubeObject {
  return {
    apiVersion: "networking.istio.io/v1", kind: "WorkloadEntry",
    metadata: { name: `${name}-dev-waypoint`, namespace, labels: { "gateway.networking.k8s.io/gateway-name": name, "ambit.dev/node": node } },
    spec: { address, serviceAccount: name },
  };
}

/** Starts, follows and stops the waypoints of the store. */
export class DevWaypoints {
  readonly #running = new Map<string, DevWaypoint>();
  #syncing: Promise<void> = Promise.resolve();

  constructor(private readonly plan: DevPlan, private readonly supervisor: Supervisor, private readonly cp: ControlplaneClient, private readonly io: Io, private readonly timeoutMs = 60_000) {}

  get running(): readonly DevWaypoint[] {
    return [...this.#running.values()];
  }

  /** Brings the processes in line with the store's waypoint Gateways; resolves once new ones are ready. */
  sync(): Promise<void> {
    this.#syncing = this.#syncing.then(() => this.#sync(), () => this.#sync());
    return this.#syncing;
  }

  /** Syncs every `intervalMs` until the supervisor stops; `onChange` hears of each process started or stopped. */
  watch(intervalMs = 500, onChange: () => void = () => {}): void {
    const tick = () => {
      if (this.supervisor.stopping) return;
      const before = this.running.map((w) => w.child.pid).join();
      void this.sync().then(() => {
        if (this.running.map((w) => w.child.pid).join() !== before && !this.supervisor.stopping) onChange();
      }).catch((e: Error) => this.io.err(`waypoints: ${e.message}\n`)).finally(() => {
        if (!this.supervisor.stopping) setTimeout(tick, intervalMs).unref?.();
      });
    };
    setTimeout(tick, intervalMs).unref?.();
  }

  async #sync(): Promise<void> {
    if (this.supervisor.stopping) return;
    const { items } = await this.cp.list({ kind: "Gateway" });
    const wanted = items.filter((g) => (g.spec as { gatewayClassName?: string } | undefined)?.gatewayClassName === "istio-waypoint");
    const keys = new Set(wanted.map((g) => `${g.metadata.namespace}/${g.metadata.name}`));
    for (const [key, wp] of this.#running) {
      if (keys.has(key)) continue;
      this.#running.delete(key);
      const [namespace, name] = key.split("/") as [string, string];
      await this.supervisor.stop(wp.child, 5000);
      await this.cp.delete([waypointEntry(namespace, name, wp.address, this.plan.nodes[0]!.name)], "ambit dev");
      this.io.out(`waypoint ${key} deleted: its process stopped\n`);
    }
    for (const gw of wanted) {
      const key = `${gw.metadata.namespace}/${gw.metadata.name}`;
      if (this.#running.has(key) || this.supervisor.stopping) continue;
      const address = this.#freeAddress();
      const node = this.plan.nodes[0]!.name;
      await this.cp.apply([waypointEntry(gw.metadata.namespace ?? "", gw.metadata.name, address, node)], "ambit dev");
      const name = `waypoint-${gw.metadata.namespace}-${gw.metadata.name}`;
      const child = this.supervisor.start({
        name, role: "waypoint", logFile: path.join(this.plan.logDir, `${name}.log`),
        ...serviceCommand("waypoint", ["--gateway", key, "--address", address, "--controlplane", this.plan.controlplane.devUrl, "--drain-seconds", "1"]),
      });
      this.#running.set(key, { key, address, child });
      await waitUntil(`waypoint ${key}`, () => httpReady(`http://${address}:15021/healthz/ready`), { child, timeoutMs: this.timeoutMs });
      this.io.out(`waypoint ${key} ready on ${address} (HBONE :15008)\n`);
    }
  }

  #freeAddress(): string {
    const used = new Set([...this.#running.values()].map((w) => w.address));
    for (let i = 1; i <= MAX_WAYPOINTS; i++) if (!used.has(`${DEV_WAYPOINT_PREFIX}${i}`)) return `${DEV_WAYPOINT_PREFIX}${i}`;
    throw new Error(`more than ${MAX_WAYPOINTS} waypoints`);
  }
}
