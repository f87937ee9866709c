import { describe, expect, test } from "bun:test";
import type { StreamStatus } from "../xds/server.ts";
import { serviceDiscoveryTargets } from "./service_discovery.ts";

const stream = (node: StreamStatus["node"], connected = true): StreamStatus => ({ streamId: node.id, node, connected, connectedAt: "", types: [] });

describe("serviceDiscoveryTargets", () => {
  const cases: { name: string; streams: StreamStatus[]; gateways?: string[]; want: { target: string; labels?: Record<string, string> }[] }[] = [
    {
      name: "a ztunnel with Istio's pod labels",
      streams: [stream({ id: "ztunnel~1", nodeName: "node-a", ips: ["127.0.10.1"], metadata: { role: "ztunnel", metricsPort: "15020" } })],
      want: [{ target: "127.0.10.1:15020", labels: { app: "ztunnel", pod: "ztunnel-node-a", namespace: "istio-system", node: "node-a", role: "ztunnel", workload: "ztunnel" } }],
    },
    {
      name: "a ztunnel without metadata (older) defaults to 15020",
      streams: [stream({ id: "z", nodeName: "node-b", ips: ["127.0.10.2"] })],
      want: [{ target: "127.0.10.2:15020" }],
    },
    {
      name: "a waypoint of an existing Gateway, its own port",
      streams: [stream({ id: "waypoint~ab12", nodeName: "demo.wp", ips: ["127.0.20.1"], metadata: { role: "waypoint", waypoint: "demo/wp", metricsPort: "25020" } })],
      gateways: ["demo/wp"],
      want: [{
        target: "127.0.20.1:25020",
        labels: { app: "wp", pod: "wp-ab12", namespace: "demo", node: "demo.wp", role: "waypoint", workload: "wp", gateway_networking_k8s_io_gateway_name: "wp" },
      }],
    },
    {
      name: "a waypoint whose Gateway is gone is left out",
      streams: [stream({ id: "waypoint~1", nodeName: "demo.wp", ips: ["127.0.20.1"], metadata: { role: "waypoint", waypoint: "demo/wp" } })],
      want: [],
    },
    {
      name: "a host name, no address, a bad port, an unknown role, a closed stream",
      streams: [
        stream({ id: "a", nodeName: "n1", ips: ["metadata.internal"] }),
        stream({ id: "b", nodeName: "n2" }),
        stream({ id: "c", nodeName: "n3", ips: ["127.0.0.3"], metadata: { metricsPort: "99999" } }),
        stream({ id: "d", nodeName: "n4", ips: ["127.0.0.4"], metadata: { role: "gateway" } }),
        stream({ id: "e", nodeName: "n5", ips: ["127.0.0.5"] }, false),
      ],
      want: [{ target: "127.0.0.3:15020" }],
    },
    {
      name: "IPv6, and a reconnect listed once",
      streams: [stream({ id: "a", nodeName: "n", ips: ["::1"] }), stream({ id: "b", nodeName: "n", ips: ["::1"] })],
      want: [{ target: "[::1]:15020" }],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const got = serviceDiscoveryTargets(c.streams, (ns, name) => (c.gateways ?? []).includes(`${ns}/${name}`));
      expect(got.map((g) => g.targets)).toEqual(c.want.map((w) => [w.target]));
      c.want.forEach((w, i) => w.labels && expect(got[i]!.labels).toEqual(w.labels));
    });
  }
});
