/**
 * Pods and WorkloadEntries → the Workloads ztunnel serves (istiod: ambient
 * workloads.go). Only enrolled ones: `istio.io/dataplane-mode=ambient` on the
 * workload or its namespace, `none` on the workload opts out. A waypoint's own
 * instances speak HBONE natively and are always included.
 *
 * @module
 */
import type { KubeObject } from "../../config/objects.ts";
import { DATAPLANE_MODE_LABEL, describeObject, NODE_LABEL } from "../../config/objects.ts";
import type { PortMap, Workload } from "../../xds/resources.ts";
import { hostnamesOf, isMeshService, isMeshServiceEntry, selectorOf } from "./_kube_service.ts";
import { groupObjects, type MeshObjects } from "./_objects.ts";
import { isStrict, STATIC_STRICT_POLICY_NAME } from "./_peer_authentication.ts";
import { captureOf } from "./_capture.ts";
import { canonicalService, containerPort, podAddresses, podHealth, podTerminated, podWorkload } from "./_pod.ts";
import { arr, isAddress, type Labels, labelMap, labelsOf, portNumber, rec, selectsNonEmpty, spec, status, str } from "./_read.ts";
import { workloadPortMap } from "./_service_ports.ts";
import type { ObjectWarning, TranslateOptions } from "./_types.ts";
import { WorkloadMemo } from "./workload_memo.ts";
import { bindWaypoint, collectWaypoints, GATEWAY_NAME_LABEL, waypointInstanceOf, type Waypoints } from "./_waypoints.ts";
import { policySelects, translateAuthorizationPolicy } from "./authorization.ts";

export type WorkloadOptions = Omit<TranslateOptions, "allocateVip">;

export interface WorkloadTranslation {
  /** Sorted by uid. */
  readonly workloads: readonly Workload[];
  readonly warnings: readonly ObjectWarning[];
}

/** What differs between a Pod and a WorkloadEntry; the rest is built the same way. */
interface Source {
  readonly object: KubeObject;
  readonly labels: Labels;
  readonly isEntry: boolean;
  readonly fields: Pick<
    Workload,
    "uid" | "addresses" | "node" | "serviceAccount" | "network" | "status" | "workloadName" | "workloadType" | "networkMode"
  >;
  readonly namedPort: (name: string) => number | undefined;
}

/**
 * Translates the enrolled Pods and WorkloadEntries among `objects`.
 *
 * @example
 * ```ts
 * const { workloads } = translateWorkloads(objects, {
 *   trustDomain: "cluster.local", clusterDomain: "cluster.local", clusterId: "cluster1", rootNamespace: "istio-system",
 * });
 * ```
 */
export function translateWorkloads(objects: readonly KubeObject[], options: WorkloadOptions): WorkloadTranslation {
  const mesh = groupObjects(objects);
  const waypoints = collectWaypoints(mesh, options.clusterDomain, options.trustDomain);
  const selectorPolicies = mesh.authorizationPolicies.filter((p) =>
    translateAuthorizationPolicy(p, options).authorization?.scope === "WORKLOAD_SELECTOR"
  );
  const warnings: ObjectWarning[] = [];
  const workloads: Workload[] = [];
  const inMesh = (o: KubeObject, labels: Labels) =>
    !!waypointInstanceOf(o, waypoints) || isEnrolled(labels, o.metadata.annotations ?? {}, mesh.namespaceLabels(o.metadata.namespace ?? ""));
  const entries = mesh.workloadEntries.filter((e) => inMesh(e, entryLabels(e))).map((e) => entrySource(e, options, warnings));
  // An ordinary Pod translated before, in the same mesh otherwise, keeps its Workload (workload_memo.ts).
  const memo = options.workloadMemo;
  const kept = memo?.forObjects(objects);
  for (const pod of mesh.pods) {
    const known = kept?.get(pod);
    if (known) {
      if (known.workload) workloads.push(known.workload);
      warnings.push(...known.warnings);
      memo!.counts.reused++;
      continue;
    }
    const own: ObjectWarning[] = [];
    const source = inMesh(pod, labelsOf(pod)) ? podSource(pod, options) : undefined;
    const workload = source && build(source, mesh, waypoints, selectorPolicies, options, own);
    warnings.push(...own);
    if (workload) workloads.push(workload);
    if (kept && memo && WorkloadMemo.isOrdinaryPod(pod)) kept.set(pod, { workload, warnings: own }), memo.counts.translated++;
  }
  for (const source of entries) if (source) workloads.push(build(source, mesh, waypoints, selectorPolicies, options, warnings));
  workloads.sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
  return { workloads, warnings };
}

/** True when a workload is enrolled in ambient: by its own label or its namespace's; `none` or a sidecar opts out. */
export function isEnrolled(labels: Labels, annotations: Labels, namespaceLabels: Labels): boolean {
  const own = labels[DATAPLANE_MODE_LABEL];
  if (own === "none" || annotations["sidecar.istio.io/status"]) return false;
  return own === "ambient" || namespaceLabels[DATAPLANE_MODE_LABEL] === "ambient";
}

/** Istio merges a WorkloadEntry's spec.labels over its metadata.labels. */
function entryLabels(entry: KubeObject): Labels {
  return { ...labelsOf(entry), ...labelMap(spec(entry).labels) };
}

function podSource(pod: KubeObject, o: WorkloadOptions): Source | undefined {
  const { name, namespace = "" } = pod.metadata;
  const addresses = podAddresses(pod);
  const node = str(spec(pod).nodeName) ?? "";
  // Not yet scheduled or without an address: no ztunnel can serve it, nothing can reach it.
  if (podTerminated(pod) || addresses.length === 0 || !node) return undefined;
  const workload = podWorkload(pod);
  return {
    object: pod,
    labels: labelsOf(pod),
    isEntry: false,
    fields: {
      uid: `${o.clusterId}//v1/Pod/${namespace}/${name}`,
      addresses, node, network: "",
      serviceAccount: str(spec(pod).serviceAccountName) || "default",
      status: podHealth(pod),
      workloadName: workload.name, workloadType: workload.type,
      ...(spec(pod).hostNetwork === true ? { networkMode: "HOST_NETWORK" as const } : {}),
    },
    namedPort: (port) => containerPort(pod, port),
  };
}

function entrySource(entry: KubeObject, o: WorkloadOptions, warnings: ObjectWarning[]): Source | undefined {
  const { name, namespace = "" } = entry.metadata;
  const s = spec(entry);
  const labels = entryLabels(entry);
  const address = str(s.address) ?? "";
  const node = labels[NODE_LABEL] ?? "";
  const warn = (message: string) => warnings.push({ object: describeObject(entry), message });
  if (!isAddress(address)) return void warn(`spec.address "${address}" is not an IP address: not sent to ztunnel`);
  if (!node) return void warn(`no ${NODE_LABEL} label: no ztunnel serves it, so it is not sent`);
  // Istio's WorkloadEntry health checks report a Healthy condition.
  const healthy = arr(status(entry).conditions).map(rec).find((c) => c.type === "Healthy");
  return {
    object: entry,
    labels,
    isEntry: true,
    fields: {
      uid: `${o.clusterId}/networking.istio.io/WorkloadEntry/${namespace}/${name}`,
      addresses: [address], node,
      network: str(s.network) ?? "",
      serviceAccount: str(s.serviceAccount) || "default",
      status: healthy?.status === "False" ? "UNHEALTHY" : "HEALTHY",
      workloadName: labels["service.istio.io/workload-name"] || name, workloadType: "pod",
    },
    namedPort: (port) => portNumber(rec(s.ports)[port]),
  };
}

function build(
  s: Source, mesh: MeshObjects, waypoints: Waypoints, selectorPolicies: readonly KubeObject[], o: WorkloadOptions, warnings: ObjectWarning[],
): Workload {
  const { name, namespace = "" } = s.object.metadata;
  const nsLabels = mesh.namespaceLabels(namespace);
  const services: Record<string, PortMap> = {};
  const backs = (svc: KubeObject) => svc.metadata.namespace === namespace && selectsNonEmpty(selectorOf(svc), s.labels);
  for (const svc of [...mesh.services.filter(isMeshService), ...mesh.serviceEntries.filter(isMeshServiceEntry)]) {
    if (!backs(svc)) continue;
    const ports = workloadPortMap(svc, s.namedPort, s.isEntry);
    for (const host of hostnamesOf(svc, o.clusterDomain)) services[`${namespace}/${host}`] = ports;
  }
  const policies = selectorPolicies
    .filter((p) => policySelects(p, o.rootNamespace, namespace, s.labels))
    .map((p) => `${p.metadata.namespace}/${p.metadata.name}`)
    .sort();
  if (isStrict(mesh.peerAuthentications, o.rootNamespace, namespace, s.labels)) policies.push(`${o.rootNamespace}/${STATIC_STRICT_POLICY_NAME}`);

  // A waypoint's own instances are never sent through a waypoint, nor captured by their ztunnel. The label
  // alone decides: an instance whose Gateway is not (yet) in the store must not get ztunnel listeners on its
  // address either, or they take the port the waypoint is about to listen on.
  const instance = !!waypointInstanceOf(s.object, waypoints) || s.labels[GATEWAY_NAME_LABEL] !== undefined;
  const binding = instance ? {} : bindWaypoint({ namespace, labels: s.labels }, nsLabels, waypoints, "workload");
  if (binding.problem) {
    const object = binding.problem.inherited ? `Namespace ${namespace}` : describeObject(s.object);
    warnings.push({ object, message: binding.problem.message });
  }
  const canonical = canonicalService(s.labels, s.fields.workloadName);
  const { capture, problem } = captureOf(s.labels, s.object.metadata.annotations ?? {});
  if (problem) warnings.push({ object: describeObject(s.object), message: problem });
  return {
    ...s.fields,
    name, namespace,
    trustDomain: o.trustDomain,
    tunnelProtocol: "HBONE",
    ...(instance ? { nativeTunnel: true } : {}),
    ...(binding.address ? { waypoint: binding.address } : {}),
    canonicalName: canonical.name,
    canonicalRevision: canonical.revision,
    clusterId: o.clusterId,
    services,
    authorizationPolicies: policies,
    ...(capture ? { capture } : {}),
  };
}
