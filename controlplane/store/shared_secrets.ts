/**
 * What every replica must agree on before it serves: the CA (a node
 * certificate or workload certificate from one replica must verify at all of
 * them, and the TrustBundle resource, hence its xDS version, must be the same)
 * and the admin token. The first replica to start publishes its own with
 * create-if-absent; the others adopt it into their state directory, where the
 * CA loader and the CLI read files as before. As istiod keeps its root in the
 * `istio-ca-secret` Secret, Ambit keeps it in the store: protect etcd
 * accordingly (docs/ha.md).
 *
 * @example
 * ```ts
 * const adminToken = await shareSecrets(store, { caDir, defaultCaDir: true, adminTokenFile, createCa, log });
 * ```
 * @module
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { CA_FILES } from "../../identity/mod.ts";
import type { RecordCollection } from "./config_store.ts";
import { writeFileDurably } from "./durable_file.ts";

/** Where a replica keeps its copies, and how it makes a CA when it is the first. */
export interface SharedSecretFiles {
  readonly caDir: string;
  /** True when --ca-dir was left at its default (the store's CA may replace it); false for an operator's plug-in CA. */
  readonly defaultCaDir: boolean;
  readonly adminTokenFile: string;
  /** Creates a CA in caDir when it has none. */
  readonly createCa: () => Promise<void>;
}

type CaFiles = Record<string, string>;

/** Agrees on the CA and the admin token through `records`; returns the admin token. */
export async function shareSecrets(records: RecordCollection<unknown>, files: SharedSecretFiles): Promise<string> {
  let ca = records.get("ca") as CaFiles | undefined;
  if (!ca) {
    await files.createCa();
    const local = readCa(files.caDir);
    if (!(await records.put("ca", local, { ifAbsent: true }))) ca = records.get("ca") as CaFiles;
  }
  if (ca) adoptCa(ca, files);
  let token = records.get("admin-token") as string | undefined;
  if (!token) {
    const mine = fs.existsSync(files.adminTokenFile) ? fs.readFileSync(files.adminTokenFile, "utf8").trim() : randomBytes(32).toString("base64url");
    token = (await records.put("admin-token", mine, { ifAbsent: true })) ? mine : records.get("admin-token") as string;
  }
  if (!fs.existsSync(files.adminTokenFile) || fs.readFileSync(files.adminTokenFile, "utf8").trim() !== token) writeFileDurably(files.adminTokenFile, token + "\n", 0o600);
  return token;
}

function readCa(dir: string): CaFiles {
  const out: CaFiles = {};
  for (const name of Object.values(CA_FILES)) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) out[name] = fs.readFileSync(file, "utf8");
  }
  return out;
}

/** Writes the shared CA into caDir; an operator's plug-in CA that differs is an error, not overwritten. */
function adoptCa(ca: CaFiles, files: SharedSecretFiles): void {
  const local = readCa(files.caDir);
  if (Object.keys(ca).every((name) => local[name] === ca[name]) && Object.keys(local).length === Object.keys(ca).length) return;
  if (!files.defaultCaDir && local[CA_FILES.cert]) {
    throw new Error(`the CA in ${files.caDir} differs from the one the other replicas use (in the store): give every replica the same plug-in CA files`);
  }
  fs.rmSync(files.caDir, { recursive: true, force: true });
  for (const [name, pem] of Object.entries(ca)) writeFileDurably(path.join(files.caDir, name), pem, name === CA_FILES.key ? 0o600 : 0o644);
}
