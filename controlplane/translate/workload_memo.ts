/**
 * What lets one Pod change re-translate only that Pod (Kubernetes mode with
 * 10,000 Pods: bench/kube_pods.ts). A Pod's Workload depends on the Pod itself
 * and on the mesh's other objects — Namespaces, Services, ServiceEntries,
 * policies, Gateways and the waypoints' own instance Pods — never on another
 * ordinary Pod. Stores keep an unchanged object's reference, so while every one
 * of those others is the very same object as at the last translation, a Pod
 * that is also the same object keeps its Workload (and its warnings); when any
 * of them changes, everything is translated again.
 *
 * @example
 * ```ts
 * const memo = new WorkloadMemo();
 * translateWorkloads(objects, { ...options, workloadMemo: memo }); // later calls reuse unchanged Pods
 * ```
 * @module
 */
import type { KubeObject } from "../../config/objects.ts";
import type { Workload } from "../../xds/resources.ts";
import type { ObjectWarning } from "./_types.ts";
import { GATEWAY_NAME_LABEL } from "./_waypoints.ts";

/** One Pod's translation: its Workload (none when not in the mesh or not yet routable) and warnings. */
export interface PodTranslation {
  readonly workload?: Workload;
  readonly warnings: readonly ObjectWarning[];
}

/** Pod translations kept from one translation to the next while the rest of the mesh stays the same. */
export class WorkloadMemo {
  #context: readonly KubeObject[] = [];
  #pods = new WeakMap<KubeObject, PodTranslation>();
  /** Pods translated and kept since the last {@link forObjects}: for the bench and tests. */
  readonly counts = { translated: 0, reused: 0 };

  /** True for a Pod whose change touches only its own Workload. */
  static isOrdinaryPod(o: KubeObject): boolean {
    return o.kind === "Pod" && o.apiVersion === "v1" && o.metadata.labels?.[GATEWAY_NAME_LABEL] === undefined;
  }

  /** The Pod translations still valid for `objects`: all of them when nothing but ordinary Pods changed, else none. */
  forObjects(objects: readonly KubeObject[]): WeakMap<KubeObject, PodTranslation> {
    const context = objects.filter((o) => !WorkloadMemo.isOrdinaryPod(o));
    const same = context.length === this.#context.length && context.every((o, i) => o === this.#context[i]);
    if (!same) this.#pods = new WeakMap();
    this.#context = context;
    this.counts.translated = 0;
    this.counts.reused = 0;
    return this.#pods;
  }
}
