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
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loopbackAddress } from "./loopback.ts";
import { startProcess, type TestProcess } from "./processes.ts";

/** A running etcd member. */
export interface TestEtcd {
  /** `etcd://ip:2379`, what `--store` takes. */
  readonly url: string;
  /** With `tls`: the CA of etcd's certificate and a client certificate it accepts (PEM files). */
  readonly tls?: { readonly ca: string; readonly cert: string; readonly key: string };
  readonly proc: TestProcess;
  kill(): Promise<void>;
}

/** True when the etcd binary is installed (scripts/test_packages.txt lists it). */
export function etcdInstalled(): boolean {
  return fs.existsSync("/usr/bin/etcd");
}

/**
 * Starts etcd on a fresh loopback address; with `tls`, clients must use TLS
 * and present a certificate from the test CA (openssl makes both; etcd's
 * names its address and `etcd.test`).
 */
export async function startEtcd(options: { tls?: boolean } = {}): Promise<TestEtcd> {
  const address = loopbackAddress();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-etcd-"));
  const tls = options.tls ? makeCertificates(path.join(dir, "pki"), address) : undefined;
  const client = `${tls ? "https" : "http"}://${address}:2379`;
  const peer = `http://${address}:2380`;
  const proc = startProcess("etcd", [
    "--name", "test", "--data-dir", path.join(dir, "data"), "--listen-client-urls", client, "--advertise-client-urls", client,
    "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", `test=${peer}`,
    ...(tls ? ["--cert-file", tls.serverCert, "--key-file", tls.serverKey, "--client-cert-auth", "--trusted-ca-file", tls.ca] : []),
  ]);
  await proc.waitForLine(/ready to serve client requests|serving insecure client requests/, 20_000);
  return {
    url: `etcd://${address}:2379`,
    tls: tls && { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey },
    proc,
    kill: async () => {
      proc.kill("SIGKILL");
      await proc.exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A CA, a server certificate for `address` and a client certificate, with openssl (P-256, one day). */
function makeCertificates(dir: string, address: string) {
  fs.mkdirSync(dir, { recursive: true });
  const f = (name: string) => path.join(dir, name);
  const openssl = (args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl(["req", "-x509", ...key, "-subj", "/CN=test etcd CA", "-days", "1", "-keyout", f("ca.key"), "-out", f("ca.crt")]);
  for (const [name, ext] of [["server", `subjectAltName=IP:${address},DNS:etcd.test\nextendedKeyUsage=serverAuth`], ["client", "extendedKeyUsage=clientAuth"]] as const) {
    openssl(["req", "-new", ...key, "-subj", `/CN=${name}`, "-keyout", f(`${name}.key`), "-out", f(`${name}.csr`)]);
    fs.writeFileSync(f(`${name}.ext`), ext + "\n");
    openssl(["x509", "-req", "-in", f(`${name}.csr`), "-CA", f("ca.crt"), "-CAkey", f("ca.key"), "-CAcreateserial", "-days", "1", "-extfile", f(`${name}.ext`), "-out", f(`${name}.crt`)]);
  }
  return { ca: f("ca.crt"), serverCert: f("server.crt"), serverKey: f("server.key"), clientCert: f("client.crt"), clientKey: f("client.key") };
}
