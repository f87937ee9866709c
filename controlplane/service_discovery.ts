// The scrape targets of a mesh without Kubernetes, in the shape of Prometheus's
// `http_sd_configs`: every ztunnel and waypoint connected over xDS, with the
// labels Istio's sample Prometheus would copy from their pods (`app`, `pod`,
// `namespace`) so Istio's dashboards select them unchanged, plus Ambit's own
// `node`, `role` and `workload`. The address comes from the stream's node
// (`ips[0]`) — a claim of an authenticated proxy — so only an IP literal is
// accepted: a name would let a proxy point Prometheus at any host it can resolve.
import { isIP } from "node:net";
import type { StreamStatus } from "../xds/server.ts";

/** One entry of an `http_sd_configs` answer. */
export interface ScrapeTargetGroup {
  readonly targets: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

/** The metrics port when a proxy does not say (ztunnel's and the waypoint's default, 15020). */
export const DEFAULT_METRICS_PORT = 15020;

/**
 * The target groups for the connected streams: ztunnels (`role="ztunnel"`,
 * `pod="ztunnel-<node>"`) and waypoints (`role="waypoint"`, `app`/`workload` the
 * Gateway's name, `namespace` its namespace), one group per proxy, sorted.
 * `isWaypointGateway` keeps only waypoints whose Gateway exists.
 *
 * @example
 * ```ts
 * serviceDiscoveryTargets(xds.status(), (ns, name) => true);
 * // [{ targets: ["127.0.10.1:15020"], labels: { app: "ztunnel", pod: "ztunnel-node-a", … } }]
 * ```
 */
export function serviceDiscoveryTargets(
  streams: readonly StreamStatus[],
  isWaypointGateway: (namespace: string, name: string) => boolean = () => true,
): ScrapeTargetGroup[] {
  const groups = new Map<string, ScrapeTargetGroup>();
  for (const s of streams) {
    if (!s.connected) continue;
    const address = s.node.ips?.[0];
    if (!address || !isIP(address)) continue;
    const port = metricsPort(s.node.metadata?.metricsPort);
    const target = `${isIP(address) === 6 ? `[${address}]` : address}:${port}`;
    const role = s.node.metadata?.role ?? "ztunnel";
    let labels: Record<string, string>;
    if (role === "waypoint") {
      const [namespace, name] = (s.node.metadata?.waypoint ?? "").split("/");
      if (!namespace || !name || !isWaypointGateway(namespace, name)) continue;
      labels = { app: name, pod: `${name}-${s.node.id.replace(/^waypoint~/, "")}`, namespace, node: s.node.nodeName, role, workload: name, "gateway_networking_k8s_io_gateway_name": name };
    } else if (role === "ztunnel") {
      labels = { app: "ztunnel", pod: `ztunnel-${s.node.nodeName}`, namespace: "istio-system", node: s.node.nodeName, role, workload: "ztunnel" };
    } else continue;
    // A proxy that reconnected has two streams for a moment: one target each.
    groups.set(target, { targets: [target], labels });
  }
  return [...groups.values()].sort((a, b) => a.labels.pod!.localeCompare(b.labels.pod!));
}

function metricsPort(claimed: string | undefined): number {
  const n = Number(claimed);
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : DEFAULT_METRICS_PORT;
}
