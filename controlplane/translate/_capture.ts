// How a workload asks its node to capture it transparently (docs/capture.md):
// `ambit.dev/capture-uid: "2001"` (a VM's workload running as that user) or
// `ambit.dev/capture-netns: "<name>"` (a pod's network namespace), as a Pod
// annotation or label, or a WorkloadEntry label (metadata or spec.labels).
import type { WorkloadCapture } from "../../xds/resources.ts";
import type { Labels } from "./_read.ts";

export const CAPTURE_UID_KEY = "ambit.dev/capture-uid";
export const CAPTURE_NETNS_KEY = "ambit.dev/capture-netns";

/** The capture a workload's labels and annotations ask for, or the problem with them. */
export function captureOf(labels: Labels, annotations: Labels): { capture?: WorkloadCapture; problem?: string } {
  const uid = annotations[CAPTURE_UID_KEY] ?? labels[CAPTURE_UID_KEY];
  const netns = annotations[CAPTURE_NETNS_KEY] ?? labels[CAPTURE_NETNS_KEY];
  if (uid !== undefined && netns !== undefined) return { problem: `both ${CAPTURE_UID_KEY} and ${CAPTURE_NETNS_KEY} are set: not captured` };
  if (uid !== undefined) {
    const n = /^\d{1,10}$/.test(uid) ? Number(uid) : NaN;
    if (!(n >= 1 && n <= 0xfffffffe)) return { problem: `${CAPTURE_UID_KEY} "${uid}" must be a uid from 1 (root is never captured): not captured` };
    return { capture: { mode: "owner", uid: n } };
  }
  if (netns !== undefined) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(netns)) return { problem: `${CAPTURE_NETNS_KEY} "${netns}" must be a network namespace name: not captured` };
    return { capture: { mode: "namespace", netns } };
  }
  return {};
}
