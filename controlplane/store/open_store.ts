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
import * as fs from "node:fs";
import * as path from "node:path";
import type { ConfigStore } from "./config_store.ts";
import { EtcdStore } from "./etcd_store.ts";
import { KubeStore } from "./kube_store.ts";
import { ObjectStore } from "./object_store.ts";

/** Opens the configured store. */
export async function openStore(
  config: {
    readonly store: string; readonly stateDir: string; readonly kubeconfig: string; readonly leaseDuration?: number;
    readonly etcdCa?: string; readonly etcdCert?: string; readonly etcdKey?: string; readonly etcdServerName?: string; readonly waypointImage?: string;
  },
  log: (message: string, fields: Record<string, unknown>) => void = () => undefined,
): Promise<ConfigStore> {
  if (config.kubeconfig) {
    const store = await KubeStore.open(config.kubeconfig, config.stateDir, log, config.leaseDuration);
    if (config.waypointImage) store.waypointImage = config.waypointImage;
    return store;
  }
  if (config.store.startsWith("etcd://")) {
    const read = (file?: string) => (file ? fs.readFileSync(file, "utf8") : undefined);
    const tls = config.etcdCa ? { caPem: read(config.etcdCa)!, certPem: read(config.etcdCert), keyPem: read(config.etcdKey), serverName: config.etcdServerName || undefined } : undefined;
    return await EtcdStore.open(config.store, tls);
  }
  return ObjectStore.open(path.join(config.stateDir, "store"), config.stateDir);
}
