/**
 * The demo config of `ambit dev` (samples/demo.yaml): placed on the planned
 * nodes and addresses, then applied only where the store lacks the object, so
 * whatever the user changed in an earlier run is kept. `--reset` applies it all.
 *
 * @example
 * ```ts
 * const result = await applySamples(cp, plan, { reset: false });
 * ```
 * @module
 */
import { parseConfig } from "../../config/intake.ts";
import { type KubeObject, objectKey } from "../../config/objects.ts";
import type { ControlplaneClient, ObjectChange } from "../controlplane_client.ts";
import { demoConfig } from "./launcher.ts";
import type { DevPlan } from "./plan.ts";

/** The sample objects, with each app's Pod on the node and address the plan gives it. */
export function sampleObjects(plan: DevPlan, demo: { text: string; file: string }): KubeObject[] {
  const { objects } = parseConfig(demo.text, demo.file);
  return objects.map((o) => {
    const app = plan.apps.find((a) => o.kind === "Pod" && a.name === o.metadata.name && a.namespace === o.metadata.namespace);
    if (!app) return o;
    const copy = structuredClone(o) as KubeObject & { spec: Record<string, unknown>; status: Record<string, unknown> };
    copy.spec.nodeName = app.node;
    copy.status = { ...copy.status, podIP: app.address };
    return copy;
  });
}

/** What applying the samples did. */
export interface SamplesResult {
  readonly changes: ObjectChange[];
  /** Objects already in the store, left as they are. */
  readonly kept: number;
}

/** Applies the sample objects the store does not have (all of them with `reset`). */
export async function applySamples(cp: ControlplaneClient, plan: DevPlan, options: { reset: boolean }): Promise<SamplesResult> {
  const objects = sampleObjects(plan, await demoConfig());
  const stored = new Set((await cp.list()).items.map(objectKey));
  const wanted = options.reset ? objects : objects.filter((o) => !stored.has(objectKey(o)));
  const changes = wanted.length > 0 ? (await cp.apply(wanted, "samples/demo.yaml")).changes : [];
  return { changes, kept: objects.length - wanted.length };
}
