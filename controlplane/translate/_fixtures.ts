// Object builders for the translation tests: each takes only what a row varies.
import type { KubeObject } from "../../config/objects.ts";

type Labels = Record<string, string>;
const meta = (name: string, namespace: string | undefined, labels?: Labels, annotations?: Labels) => ({
  name, ...(namespace ? { namespace } : {}), ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}),
});

export const OPTIONS = { trustDomain: "cluster.local", clusterDomain: "cluster.local", clusterId: "cluster1", rootNamespace: "istio-system" };

export function namespace(name: string, labels: Labels = {}): KubeObject {
  return { apiVersion: "v1", kind: "Namespace", metadata: meta(name, undefined, labels) };
}
export const AMBIENT = { "istio.io/dataplane-mode": "ambient" };

export interface PodOptions {
  ns?: string;
  labels?: Labels;
  annotations?: Labels;
  ip?: string | null;
  ips?: string[];
  node?: string | null;
  sa?: string;
  phase?: string;
  conditions?: { type: string; status: string }[];
  ports?: { name: string; containerPort: number }[];
  hostNetwork?: boolean;
}
export function pod(name: string, o: PodOptions = {}): KubeObject {
  return {
    apiVersion: "v1", kind: "Pod", metadata: meta(name, o.ns ?? "default", o.labels ?? { app: name }, o.annotations),
    spec: {
      ...(o.node === null ? {} : { nodeName: o.node ?? "node-a" }),
      ...(o.sa ? { serviceAccountName: o.sa } : {}),
      ...(o.hostNetwork ? { hostNetwork: true } : {}),
      containers: [{ name: "app", ports: o.ports ?? [] }],
    },
    status: {
      phase: o.phase ?? "Running",
      ...(o.ip === null ? {} : { podIP: o.ip ?? "10.0.0.1" }),
      ...(o.ips ? { podIPs: o.ips.map((ip) => ({ ip })) } : {}),
      ...(o.conditions ? { conditions: o.conditions } : { conditions: [{ type: "Ready", status: "True" }] }),
    },
  };
}

export interface ServiceOptions {
  ns?: string;
  labels?: Labels;
  selector?: Labels;
  ports?: Record<string, unknown>[];
  clusterIP?: string | null;
  clusterIPs?: string[];
  type?: string;
}
export function service(name: string, o: ServiceOptions = {}): KubeObject {
  return {
    apiVersion: "v1", kind: "Service", metadata: meta(name, o.ns ?? "default", o.labels),
    spec: {
      ...(o.type ? { type: o.type } : {}),
      ...(o.selector === undefined ? { selector: { app: name } } : { selector: o.selector }),
      ports: o.ports ?? [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }],
      ...(o.clusterIP === null ? {} : { clusterIP: o.clusterIP ?? "10.96.0.10" }),
      ...(o.clusterIPs ? { clusterIPs: o.clusterIPs } : {}),
    },
  };
}

export interface ServiceEntryOptions {
  ns?: string;
  labels?: Labels;
  hosts?: string[];
  addresses?: string[];
  ports?: Record<string, unknown>[];
  selector?: Labels;
  location?: string;
  subjectAltNames?: string[];
}
export function serviceEntry(name: string, o: ServiceEntryOptions = {}): KubeObject {
  return {
    apiVersion: "networking.istio.io/v1", kind: "ServiceEntry", metadata: meta(name, o.ns ?? "default", o.labels),
    spec: {
      hosts: o.hosts ?? [`${name}.example.com`],
      ...(o.addresses ? { addresses: o.addresses } : {}),
      ports: o.ports ?? [{ number: 443, name: "https", protocol: "TLS" }],
      ...(o.selector ? { workloadSelector: { labels: o.selector } } : {}),
      location: o.location ?? "MESH_INTERNAL",
      resolution: "STATIC",
      ...(o.subjectAltNames ? { subjectAltNames: o.subjectAltNames } : {}),
    },
  };
}

export interface WorkloadEntryOptions {
  ns?: string;
  labels?: Labels;
  specLabels?: Labels;
  address?: string;
  sa?: string;
  network?: string;
  ports?: Record<string, number>;
  node?: string | null;
}
export function workloadEntry(name: string, o: WorkloadEntryOptions = {}): KubeObject {
  const labels = { ...(o.labels ?? {}), ...(o.node === null ? {} : { "ambit.dev/node": o.node ?? "vm-node" }) };
  return {
    apiVersion: "networking.istio.io/v1", kind: "WorkloadEntry", metadata: meta(name, o.ns ?? "default", labels),
    spec: {
      address: o.address ?? "192.168.7.1",
      ...(o.specLabels ? { labels: o.specLabels } : {}),
      ...(o.sa ? { serviceAccount: o.sa } : {}),
      ...(o.network ? { network: o.network } : {}),
      ...(o.ports ? { ports: o.ports } : {}),
    },
  };
}

export interface GatewayOptions {
  ns?: string;
  waypointFor?: string;
  addresses?: { type?: string; value: string }[];
  port?: number;
  className?: string;
}
/** A waypoint Gateway. Give it an address with `addresses`, an instance pod, or a Service of its name. */
export function waypoint(name: string, o: GatewayOptions = {}): KubeObject {
  return {
    apiVersion: "gateway.networking.k8s.io/v1", kind: "Gateway",
    metadata: meta(name, o.ns ?? "default", o.waypointFor ? { "istio.io/waypoint-for": o.waypointFor } : undefined),
    spec: { gatewayClassName: o.className ?? "istio-waypoint", listeners: [{ name: "mesh", port: o.port ?? 15008, protocol: "HBONE" }] },
    ...(o.addresses ? { status: { addresses: o.addresses } } : {}),
  };
}

/** A pod that is an instance of waypoint `gateway`. */
export function waypointPod(gateway: string, ip: string, ns = "default"): KubeObject {
  return pod(`${gateway}-abc`, { ns, ip, labels: { "gateway.networking.k8s.io/gateway-name": gateway } });
}

export function authorizationPolicy(name: string, ns: string, spec: unknown): KubeObject {
  return { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: meta(name, ns), spec };
}

export function peerAuthentication(name: string, ns: string, mode: string, selector?: Labels, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: meta(name, ns),
    spec: { mtls: { mode }, ...(selector ? { selector: { matchLabels: selector } } : {}), ...extra },
  };
}
