// Table tests for the TCP label derivation: which service an inbound connection
// is counted for (ztunnel's guess_inbound_service), and the labels each
// reporter puts on HBONE inbound, the same-node hand-off, plaintext 15006 and
// outbound connections.
import { expect, test } from "bun:test";
import { spiffeId } from "../identity/mod.ts";
import { testService, testWorkload } from "../testing/resources.ts";
import type { Service } from "../xds/resources.ts";
import { type BackedService, backedServices, guessInboundService, type TrafficEnds, trafficLabels } from "./traffic_labels.ts";

const web = testService("web", "shop", { ports: { 80: 8080 } });
const admin = testService("admin", "shop", { ports: { 9000: 0 } });
const named = testService("named", "shop", { ports: { 443: 0 } });
const metrics = testService("metrics", "shop", { ports: { 80: 8080 } });
const key = (s: Service) => `${s.namespace}/${s.hostname}`;

const backed = (...pairs: [Service, Record<number, number>][]): BackedService[] => pairs.map(([service, endpointPorts]) => ({ service, endpointPorts }));

const guessRows: { name: string; backed: BackedService[]; port: number; host?: string; want?: Service }[] = [
  { name: "the service whose target port is the destination port", backed: backed([admin, {}], [web, {}]), port: 8080, want: web },
  { name: "a target port of 0 means the service port itself", backed: backed([web, {}], [admin, {}]), port: 9000, want: admin },
  { name: "an endpoint's own port map (a named port) matches too", backed: backed([named, { 443: 8443 }]), port: 8443, want: named },
  { name: "several match: the first the workload backs", backed: backed([web, {}], [metrics, {}]), port: 8080, want: web },
  { name: "the source's forwarded host picks among those that match", backed: backed([web, {}], [metrics, {}]), port: 8080, host: metrics.hostname, want: metrics },
  { name: "the forwarded host wins even on another port", backed: backed([web, {}], [admin, {}]), port: 8080, host: admin.hostname, want: admin },
  { name: "a forwarded host the workload does not back is ignored", backed: backed([web, {}]), port: 8080, host: "evil.example.com", want: web },
  { name: "no service on that port: none", backed: backed([web, {}], [admin, {}]), port: 5432, want: undefined },
  { name: "a workload backing no service: none", backed: [], port: 8080, host: web.hostname, want: undefined },
];
for (const row of guessRows) {
  test(`guessInboundService: ${row.name}`, () => {
    expect(guessInboundService(row.backed, row.port, row.host)).toEqual(row.want);
  });
}

test("backedServices: resolves the workload's service keys, skipping those unknown", () => {
  const w = testWorkload("web-1", "shop", { services: { [key(web)]: { 80: 8080 }, "shop/gone.shop.svc.cluster.local": { 1: 1 } } });
  const found = backedServices(w, (ns, host) => [web, admin].find((s) => s.namespace === ns && s.hostname === host));
  expect(found).toEqual([{ service: web, endpointPorts: { 80: 8080 } }]);
});

// --- trafficLabels ---
const sleep = testWorkload("sleep", "default", { workloadName: "sleep", canonicalName: "sleep", canonicalRevision: "v1", clusterId: "cluster1" });
const web1 = testWorkload("web-1-abc", "shop", { serviceAccount: "web", workloadName: "web-1", canonicalName: "web", canonicalRevision: "v2", clusterId: "cluster1" });
const sleepId = spiffeId("cluster.local", "default", "sleep");
const webId = spiffeId("cluster.local", "shop", "web");

const destinationComplete = {
  destination_service: "web.shop.svc.cluster.local",
  destination_service_namespace: "shop",
  destination_service_name: "web",
  destination_workload: "web-1",
  destination_canonical_service: "web",
  destination_canonical_revision: "v2",
  destination_workload_namespace: "shop",
  destination_principal: "spiffe://cluster.local/ns/shop/sa/web",
  destination_app: "web",
  destination_version: "v2",
  destination_cluster: "cluster1",
};
const sourceComplete = {
  source_workload: "sleep",
  source_canonical_service: "sleep",
  source_canonical_revision: "v1",
  source_workload_namespace: "default",
  source_principal: "spiffe://cluster.local/ns/default/sa/sleep",
  source_app: "sleep",
  source_version: "v1",
  source_cluster: "cluster1",
};
const tcp = { request_protocol: "tcp", response_flags: "-" };

const labelRows: { name: string; ends: TrafficEnds; want: Record<string, string | undefined> }[] = [
  {
    name: "HBONE inbound from a known workload: both sides complete",
    ends: { reporter: "destination", source: { workload: sleep, identity: sleepId }, destination: { workload: web1, service: web, identity: webId }, mutualTls: true },
    want: { reporter: "destination", ...sourceComplete, ...destinationComplete, ...tcp, connection_security_policy: "mutual_tls" },
  },
  {
    name: "HBONE inbound from a source only its baggage describes (another cluster)",
    ends: {
      reporter: "destination",
      source: {
        identity: sleepId,
        baggage: { "k8s.cluster.name": "east", "k8s.namespace.name": "default", "k8s.deployment.name": "sleep", "service.name": "sleep", "service.version": "v9" },
      },
      destination: { workload: web1, service: web },
      mutualTls: true,
    },
    want: {
      reporter: "destination",
      ...sourceComplete,
      source_canonical_revision: "v9",
      source_version: "v9",
      source_cluster: "east",
      ...destinationComplete,
      ...tcp,
      connection_security_policy: "mutual_tls",
    },
  },
  {
    name: "plaintext 15006: no source identity, the destination still complete (its principal from its workload, as ztunnel)",
    ends: { reporter: "destination", source: { workload: sleep }, destination: { workload: web1, service: web }, mutualTls: false },
    want: { reporter: "destination", ...sourceComplete, source_principal: undefined, ...destinationComplete, ...tcp, connection_security_policy: "none" },
  },
  {
    name: "plaintext from outside the mesh: the source namespace stays unknown",
    ends: { reporter: "destination", source: {}, destination: { workload: web1, service: web }, mutualTls: false },
    want: {
      reporter: "destination",
      ...Object.fromEntries(Object.keys(sourceComplete).map((k) => [k, undefined])),
      ...destinationComplete,
      ...tcp,
      connection_security_policy: "none",
    },
  },
  {
    name: "outbound through a service: the source reporter names the same edge",
    ends: { reporter: "source", source: { workload: sleep, identity: sleepId }, destination: { workload: web1, service: web, identity: webId }, mutualTls: true },
    want: { reporter: "source", ...sourceComplete, ...destinationComplete, ...tcp, connection_security_policy: "mutual_tls" },
  },
  {
    name: "outbound passthrough to an address outside the mesh: destination unknown",
    ends: { reporter: "source", source: { workload: sleep, identity: sleepId }, destination: {}, mutualTls: false },
    want: {
      reporter: "source",
      ...sourceComplete,
      ...Object.fromEntries(Object.keys(destinationComplete).map((k) => [k, undefined])),
      ...tcp,
      connection_security_policy: "none",
    },
  },
  {
    name: "names fall back: workloadName → name, canonical name → workload name, revision → latest",
    ends: {
      reporter: "source",
      source: { workload: testWorkload("job-x", "batch", { workloadName: "", canonicalName: "", canonicalRevision: "", clusterId: "" }) },
      destination: { workload: web1, service: web },
      mutualTls: true,
    },
    want: {
      reporter: "source",
      source_workload: "job-x",
      source_canonical_service: "job-x",
      source_canonical_revision: "latest",
      source_workload_namespace: "batch",
      source_principal: undefined,
      source_app: "job-x",
      source_version: undefined,
      source_cluster: undefined,
      ...destinationComplete,
      ...tcp,
      connection_security_policy: "mutual_tls",
    },
  },
];
for (const row of labelRows) {
  test(`trafficLabels: ${row.name}`, () => {
    expect(trafficLabels(row.ends)).toEqual(row.want);
  });
}
