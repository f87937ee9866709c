// Options and result pieces shared by the translation steps.
import type { Condition } from "../../config/objects.ts";
import type { WorkloadMemo } from "./workload_memo.ts";

/** What every translation step needs to know about the mesh it translates for. */
export interface TranslateOptions {
  /** Trust domain of every workload identity, e.g. `cluster.local`. */
  readonly trustDomain: string;
  /** DNS suffix of Service hostnames: `<name>.<ns>.svc.<clusterDomain>`. */
  readonly clusterDomain: string;
  /** Prefix of workload uids: `<clusterId>//v1/Pod/<ns>/<name>`. */
  readonly clusterId: string;
  /** Policies here without a selector are GLOBAL; with one they select in every namespace. Istio: `istio-system`. */
  readonly rootNamespace: string;
  /** Gives a Service without an address a VIP; must return the same VIP for the same key. See `vipAllocator`. */
  readonly allocateVip: (serviceKey: string) => string;
  /** Keeps unchanged Pods' Workloads between translations (workload_memo.ts); without it every Pod is translated. */
  readonly workloadMemo?: WorkloadMemo;
}

/** A problem worth telling the user about, on the object (`Kind namespace/name`) that has it. */
export interface ObjectWarning {
  readonly object: string;
  readonly message: string;
}

/** Status conditions to write, by store key (`kind/namespace/name`, see `objectKey`). */
export type StatusMap = Map<string, Condition[]>;

/** Adds a condition to an object's list, replacing one of the same type. */
export function addCondition(statuses: StatusMap, key: string, condition: Condition): void {
  const list = (statuses.get(key) ?? []).filter((c) => c.type !== condition.type);
  statuses.set(key, [...list, condition]);
}
