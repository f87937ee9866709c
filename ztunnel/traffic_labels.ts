// Istio's standard TCP labels for one connection, from what this ztunnel knows
// of its two ends: a pure function, so each reporter's labels are table-tested.
// The destination service of an inbound connection is guessed as ztunnel's
// `guess_inbound_service` guesses it (src/proxy.rs): the service the source
// named, if the destination backs it; else the first it backs on that port.
import { formatSpiffeId, type SpiffeId } from "../identity/mod.ts";
import type { TcpLabels } from "../telemetry/mod.ts";
import type { PortMap, Service, Workload } from "../xds/resources.ts";
import { identityOf } from "./outbound_request.ts";

/** The two ends of a connection as this ztunnel knows them. */
export interface TrafficEnds {
  readonly reporter: "source" | "destination";
  readonly source: {
    readonly workload?: Workload;
    /** Only an identity proven by mutual TLS (or this node's own workload) belongs here. */
    readonly identity?: SpiffeId;
    /** From the HBONE `baggage` header, for a source not in our state. */
    readonly baggage?: Readonly<Record<string, string>>;
  };
  readonly destination: {
    readonly workload?: Workload;
    readonly service?: Service;
    readonly identity?: SpiffeId;
  };
  readonly mutualTls: boolean;
}

/** A service a destination workload backs, with that endpoint's own port map. */
export interface BackedService {
  readonly service: Service;
  /** Service port → this endpoint's target port (0: the service's own target port). */
  readonly endpointPorts: PortMap;
}

/**
 * The service an inbound connection to `port` was most likely for, among those
 * the destination workload backs. `forwardedHost` (the `host` the source put in
 * `forwarded`) wins when it names one of them: the set is bounded by what the
 * workload backs, so a bogus hint can only pick among true answers.
 */
export function guessInboundService(backed: readonly BackedService[], port: number, forwardedHost?: string): Service | undefined {
  if (forwardedHost) {
    const named = backed.find((b) => b.service.hostname === forwardedHost);
    if (named) return named.service;
  }
  return backed.find(({ service, endpointPorts }) =>
    Object.entries(service.ports).some(([servicePort, targetPort]) => {
      const sp = Number(servicePort);
      return (targetPort || sp) === port || endpointPorts[sp] === port;
    })
  )?.service;
}

/** Istio's standard TCP labels for a connection; what is unknown is left out (rendered "unknown"). */
export function trafficLabels(ends: TrafficEnds): TcpLabels {
  const s = ends.source;
  const d = ends.destination;
  const b = s.baggage ?? {};
  const sw = s.workload;
  const dw = d.workload;
  // As ztunnel: the destination workload's identity, whether or not this hop proved it.
  const destinationIdentity = d.identity ?? (dw ? identityOf(dw) : undefined);
  return {
    reporter: ends.reporter,
    source_workload: sw ? sw.workloadName || sw.name : b["k8s.deployment.name"] ?? b["k8s.pod.name"],
    source_canonical_service: sw ? canonicalName(sw) : b["service.name"],
    source_canonical_revision: sw ? sw.canonicalRevision || "latest" : b["service.version"],
    source_workload_namespace: sw?.namespace ?? b["k8s.namespace.name"] ?? s.identity?.namespace,
    source_principal: s.identity ? formatSpiffeId(s.identity) : undefined,
    source_app: sw ? canonicalName(sw) : b["service.name"],
    source_version: sw ? sw.canonicalRevision || undefined : b["service.version"],
    source_cluster: sw?.clusterId || b["k8s.cluster.name"],
    destination_service: d.service?.hostname,
    destination_service_namespace: d.service?.namespace,
    destination_service_name: d.service?.name,
    destination_workload: dw ? dw.workloadName || dw.name : undefined,
    destination_canonical_service: dw ? canonicalName(dw) : undefined,
    destination_canonical_revision: dw ? dw.canonicalRevision || "latest" : undefined,
    destination_workload_namespace: dw?.namespace,
    destination_principal: destinationIdentity ? formatSpiffeId(destinationIdentity) : undefined,
    destination_app: dw ? canonicalName(dw) : undefined,
    destination_version: dw ? dw.canonicalRevision || undefined : undefined,
    destination_cluster: dw?.clusterId || undefined,
    request_protocol: "tcp",
    response_flags: "-",
    connection_security_policy: ends.mutualTls ? "mutual_tls" : "none",
  };
}

function canonicalName(w: Workload): string {
  return w.canonicalName || w.workloadName || w.name;
}

/** The services `workload` backs, as {@link guessInboundService} takes them; `find` looks one up by namespace and hostname. */
export function backedServices(workload: Workload, find: (namespace: string, hostname: string) => Service | undefined): BackedService[] {
  return Object.entries(workload.services).flatMap(([key, endpointPorts]) => {
    const slash = key.indexOf("/");
    const service = find(key.slice(0, slash), key.slice(slash + 1));
    return service ? [{ service, endpointPorts }] : [];
  });
}
