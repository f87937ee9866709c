// The in-memory view both stores read from: objects by key, filtered reads,
// and the listeners told after each change.
import type { KubeObject } from "../../config/objects.ts";
import { filterObjects, findObject } from "./_apply_plan.ts";

/** Objects by key, with the reads of ConfigStore and its change listeners. */
export class ObjectView {
  protected readonly objects = new Map<string, KubeObject>();
  readonly #listeners = new Set<() => void>();

  list(filter: { kind?: string; namespace?: string } = {}): KubeObject[] {
    return filterObjects(this.objects.values(), filter);
  }

  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return findObject(this.objects, { kind, metadata: { name, namespace } });
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  protected notify(): void {
    for (const l of this.#listeners) l();
  }
}
