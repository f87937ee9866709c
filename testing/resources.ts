import type { Service, Workload } from "../xds/resources.ts";

/**
 * A complete Workload for unit tests: HBONE, healthy, identity `<namespace>/<name>`,
 * with whatever `over` sets on top.
 */
export function testWorkload(name: string, namespace: string, over: Partial<Workload> = {}): Workload {
  return {
    uid: `Kubernetes//v1/Pod/${namespace}/${name}`,
    name,
    namespace,
    serviceAccount: name,
    trustDomain: "cluster.local",
    addresses: [],
    network: "",
    node: "node-a",
    tunnelProtocol: "HBONE",
    status: "HEALTHY",
    canonicalName: name,
    canonicalRevision: "v1",
    workloadName: name,
    workloadType: "deployment",
    clusterId: "Kubernetes",
    services: {},
    authorizationPolicies: [],
    ...over,
  };
}

/** A Service for unit tests, hostname `<name>.<namespace>.svc.cluster.local`. */
export function testService(name: string, namespace: string, over: Partial<Service> = {}): Service {
  return { name, namespace, hostname: `${name}.${namespace}.svc.cluster.local`, vips: [], ports: {}, subjectAltNames: [], ...over };
}
