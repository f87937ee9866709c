/**
 * The data-plane resources a ztunnel acts on, modelled on istio/ztunnel's
 * workload.proto and authorization.proto. The controlplane produces them (over
 * xDS) and ztunnel's local config file parses into them: one shape, two sources.
 *
 * @module
 */

/** An address on a network: ztunnel spells it "network/ip" ("/ip" on the default network). */
export interface NetworkAddress {
  readonly network: string;
  readonly address: string;
}

/** Where a waypoint is reached: an address (or a service hostname) and its HBONE port. */
export interface GatewayAddress {
  readonly destination: { readonly kind: "address"; readonly address: NetworkAddress } | {
    readonly kind: "hostname";
    readonly namespace: string;
    readonly hostname: string;
  };
  readonly hboneMtlsPort: number;
  /**
   * The waypoint's own SPIFFE identity (`spiffe://td/ns/<ns>/sa/<gateway-name>`): the only peer the
   * destination ztunnel accepts for traffic this waypoint serves. Absent: the identities of its instances.
   */
  readonly identity?: string;
}

/** How traffic reaches a workload: HBONE (in the mesh) or NONE (plain TCP, outside it). */
export type TunnelProtocol = "HBONE" | "NONE";
export type HealthStatus = "HEALTHY" | "UNHEALTHY";

/** A port map: service port → target port (0 means "same as the service port"). */
export type PortMap = Readonly<Record<number, number>>;

/** A workload: a pod, VM or process with one identity and one or more addresses. */
export interface Workload {
  /** Unique id, e.g. `cluster1//v1/Pod/default/sleep-abc`. */
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly trustDomain: string;
  readonly addresses: readonly string[];
  readonly network: string;
  /** The node whose ztunnel serves it. */
  readonly node: string;
  readonly tunnelProtocol: TunnelProtocol;
  /** HOST_NETWORK workloads share their node's address, so are not found by it. */
  readonly networkMode?: "STANDARD" | "HOST_NETWORK";
  /**
   * Speaks HBONE itself (a waypoint instance): its ztunnel opens no listeners on its addresses and
   * never captures its traffic; peers reach it at its own HBONE port (Istio's native_tunnel).
   */
  readonly nativeTunnel?: boolean;
  readonly status: HealthStatus;
  readonly waypoint?: GatewayAddress;
  readonly canonicalName: string;
  readonly canonicalRevision: string;
  readonly workloadName: string;
  readonly workloadType: string;
  readonly clusterId: string;
  /** Services it backs: "namespace/hostname" → port map. */
  readonly services: Readonly<Record<string, PortMap>>;
  /** Selector-scoped policies ("namespace/name") that apply to it. */
  readonly authorizationPolicies: readonly string[];
  /** How its node captures its traffic without SOCKS5 (docs/capture.md); absent: not captured. */
  readonly capture?: WorkloadCapture;
}

/**
 * What makes a process part of a workload on its node, for transparent capture:
 * its owner (a VM's workload runs as its own user) or its network namespace
 * (a pod, as in Istio's in-pod mode; designed, not yet served: docs/capture.md).
 */
export type WorkloadCapture =
  | { readonly mode: "owner"; readonly uid: number }
  | { readonly mode: "namespace"; readonly netns: string };

/** A service: a hostname and VIPs that load-balance over the workloads backing it. */
export interface Service {
  readonly name: string;
  readonly namespace: string;
  readonly hostname: string;
  readonly vips: readonly NetworkAddress[];
  readonly ports: PortMap;
  /** Identities the service's endpoints may present, beyond each endpoint's own. */
  readonly subjectAltNames: readonly string[];
  readonly waypoint?: GatewayAddress;
  /**
   * A second waypoint taking `weight` percent (0–100) of new connections (`istio.io/use-waypoint-canary`
   * with the annotation `istio.io/use-waypoint-canary-weight`); the rest go to `waypoint`.
   */
  readonly waypointCanary?: { readonly waypoint: GatewayAddress; readonly weight: number };
}

/** A string match in an authorization rule: exact, prefix, suffix, or presence (any value). */
export type StringMatch =
  | { readonly exact: string }
  | { readonly prefix: string }
  | { readonly suffix: string }
  | { readonly presence: true };

/** A service account, matched exactly against the peer identity's namespace and account. */
export interface ServiceAccountMatch {
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** An IP range, as address and prefix length. */
export interface AddressRange {
  readonly address: string;
  readonly length: number;
}

/** The conditions of one match: fields AND together, values within a field OR. */
export interface AuthorizationMatch {
  readonly namespaces: readonly StringMatch[];
  readonly notNamespaces: readonly StringMatch[];
  readonly serviceAccounts: readonly ServiceAccountMatch[];
  readonly notServiceAccounts: readonly ServiceAccountMatch[];
  readonly principals: readonly StringMatch[];
  readonly notPrincipals: readonly StringMatch[];
  readonly sourceIps: readonly AddressRange[];
  readonly notSourceIps: readonly AddressRange[];
  readonly destinationIps: readonly AddressRange[];
  readonly notDestinationIps: readonly AddressRange[];
  readonly destinationPorts: readonly number[];
  readonly notDestinationPorts: readonly number[];
}

export type AuthorizationScope = "GLOBAL" | "NAMESPACE" | "WORKLOAD_SELECTOR";
export type AuthorizationAction = "ALLOW" | "DENY";

/**
 * An L4 authorization policy: rules OR, a rule's clauses AND, a clause's matches OR.
 */
export interface Authorization {
  readonly name: string;
  readonly namespace: string;
  readonly scope: AuthorizationScope;
  readonly action: AuthorizationAction;
  readonly rules: readonly (readonly (readonly AuthorizationMatch[])[])[];
  /** Evaluated and reported, never enforced. */
  readonly dryRun: boolean;
}

/** Everything a ztunnel knows at one moment. */
export interface DataPlaneSnapshot {
  readonly workloads: readonly Workload[];
  readonly services: readonly Service[];
  readonly policies: readonly Authorization[];
}

/** "namespace/name" key of a service or policy. */
export function namespacedKey(o: { readonly namespace: string; readonly name: string }): string {
  return `${o.namespace}/${o.name}`;
}

/** "namespace/hostname" key of a service, as workloads name the services they back. */
export function serviceKey(s: Pick<Service, "namespace" | "hostname">): string {
  return `${s.namespace}/${s.hostname}`;
}

/** An empty match, to build from. */
export const EMPTY_MATCH: AuthorizationMatch = Object.freeze({
  namespaces: [],
  notNamespaces: [],
  serviceAccounts: [],
  notServiceAccounts: [],
  principals: [],
  notPrincipals: [],
  sourceIps: [],
  notSourceIps: [],
  destinationIps: [],
  notDestinationIps: [],
  destinationPorts: [],
  notDestinationPorts: [],
});
