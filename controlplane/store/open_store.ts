/**
 * Picks the store: `--kubeconfig` for Kubernetes mode, else what `--store`
 * names: empty for the embedded file store under the state directory,
 * `etcd://host:port[,host:port…][/prefix]` for etcd.
 *
 * @example
 * ```ts
 * const store = await openStore({ store: "", stateDir: ".ambit/controlplane" });
 * ```
 * @module
 */
import * as path from "node:path";
import type { ConfigStore } from "./config_store.ts";
import { EtcdStore } from "./etcd_store.ts";
import { KubeStore } from "./kube_store.ts";
import { ObjectStore } from "./object_store.ts";

/** Opens the configured store. */
export async function openStore(
  config: { readonly store: string; readonly stateDir: string; readonly kubeconfig: string; readonly leaseDuration?: number },
  log: (message: string, fields: Record<string, unknown>) => void = () => undefined,
): Promise<ConfigStore> {
  if (config.kubeconfig) return await KubeStore.open(config.kubeconfig, config.stateDir, log, config.leaseDuration);
  if (config.store.startsWith("etcd://")) return await EtcdStore.open(config.store);
  return ObjectStore.open(path.join(config.stateDir, "store"), config.stateDir);
}
