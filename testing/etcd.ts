/**
 * A real etcd 3.4 (Debian `etcd-server`) for a test: one member on its own
 * loopback address, data in a temp directory, ready once it logs that it
 * serves clients. `kill()` ends it and removes the data.
 *
 * @example
 * ```ts
 * const etcd = await startEtcd();
 * const store = await EtcdStore.open(etcd.url);
 * await etcd.kill();
 * ```
 * @module
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loopbackAddress } from "./loopback.ts";
import { startProcess, type TestProcess } from "./processes.ts";

/** A running etcd member. */
export interface TestEtcd {
  /** `etcd://ip:2379`, what `--store` takes. */
  readonly url: string;
  readonly proc: TestProcess;
  kill(): Promise<void>;
}

/** True when the etcd binary is installed (scripts/test_packages.txt lists it). */
export function etcdInstalled(): boolean {
  return fs.existsSync("/usr/bin/etcd");
}

/** Starts etcd on a fresh loopback address. */
export async function startEtcd(): Promise<TestEtcd> {
  const address = loopbackAddress();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-etcd-"));
  const client = `http://${address}:2379`;
  const peer = `http://${address}:2380`;
  const proc = startProcess("etcd", [
    "--name", "test", "--data-dir", dir, "--listen-client-urls", client, "--advertise-client-urls", client,
    "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", `test=${peer}`,
  ]);
  await proc.waitForLine(/ready to serve client requests|serving insecure client requests/, 20_000);
  return {
    url: `etcd://${address}:2379`,
    proc,
    kill: async () => {
      proc.kill("SIGKILL");
      await proc.exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
