import * as fs from "node:fs";
import * as path from "node:path";
import { x509 } from "./_x509.ts";
import { checkCsr, checkCsrUri, createCertificateRequest } from "./csr.ts";
import { IdentityError } from "./errors.ts";
import { generateKeyMaterial, importPrivateKeyPem, type SigningAlgorithm } from "./keys.ts";
import { joinPem, splitPemCertificates } from "./pem.ts";
import { formatSpiffeId, type SpiffeId } from "./spiffe.ts";
import type { WorkloadCertificate } from "./workload_certificate.ts";

/** Istio's plug-in CA file names, which Ambit also uses for the root it creates itself. */
export const CA_FILES = {
  cert: "ca-cert.pem",
  key: "ca-key.pem",
  root: "root-cert.pem",
  chain: "cert-chain.pem",
} as const;

/**
 * The cap on workload certificate lifetimes: 7 days. (Istio allows 90; a stolen
 * certificate of a revoked node is refused by serial only until it expires, so
 * Ambit keeps that window short.)
 */
export const DEFAULT_MAX_TTL_SECONDS = 7 * 24 * 3600;
/** The lifetime of a workload certificate whose request names none (Istio's DEFAULT_WORKLOAD_CERT_TTL). */
export const DEFAULT_WORKLOAD_TTL_SECONDS = 24 * 3600;
const ROOT_TTL_DAYS = 10 * 365;
const CLOCK_SKEW_MS = 60_000;

/** Options for {@link CertificateAuthority.loadOrCreate}. */
export interface CaOptions {
  /** Directory holding the CA files; a self-signed root is created there when it has none. */
  readonly dir: string;
  readonly trustDomain: string;
  /** TTLs asked for beyond this are cut down to it. */
  readonly maxTtlSeconds?: number;
}

/** A signed certificate: leaf first, then the CA's chain up to and including the root. */
export interface IssuedChain {
  readonly identity: SpiffeId;
  readonly chainPem: string[];
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * Signs workload CSRs for one trust domain. Its signing key is either a root
 * it created and persisted, or an operator's intermediate in Istio's plug-in layout.
 *
 * @example
 * ```ts
 * const ca = await CertificateAuthority.loadOrCreate({ dir: ".ambit/ca", trustDomain: "cluster.local" });
 * const issued = await ca.sign(csrPem, 24 * 3600);
 * ```
 */
export class CertificateAuthority {
  private constructor(
    /** Where the CA files live. */
    readonly dir: string,
    readonly trustDomain: string,
    readonly maxTtlSeconds: number,
    private readonly signingCert: x509.X509Certificate,
    private readonly signingKey: CryptoKey,
    private readonly algorithm: SigningAlgorithm,
    /** From the signing certificate up to the root. */
    private readonly caChainPem: string[],
    /** Roots peers should trust. */
    readonly trustBundlePem: string[],
  ) {}

  /** Loads the CA files in `dir`, creating a self-signed root first when there are none. */
  static async loadOrCreate(options: CaOptions): Promise<CertificateAuthority> {
    const certFile = path.join(options.dir, CA_FILES.cert);
    if (!fs.existsSync(certFile)) await createRootOnce(options.dir, options.trustDomain);
    return CertificateAuthority.load(options);
  }

  /** Loads an existing CA from `dir` (Istio plug-in layout). */
  static async load(options: CaOptions): Promise<CertificateAuthority> {
    const read = (name: string) => {
      const file = path.join(options.dir, name);
      try {
        return fs.readFileSync(file, "utf8");
      } catch (cause) {
        throw new IdentityError("ERR_CA_LOAD", `cannot read CA file ${file}`, { cause });
      }
    };
    const certPem = read(CA_FILES.cert);
    const { keys, algorithm } = await importPrivateKeyPem(read(CA_FILES.key)).catch((cause) => {
      throw new IdentityError("ERR_CA_LOAD", `cannot load CA key ${path.join(options.dir, CA_FILES.key)}`, { cause });
    });
    const rootPem = fs.existsSync(path.join(options.dir, CA_FILES.root)) ? read(CA_FILES.root) : certPem;
    const chainFile = path.join(options.dir, CA_FILES.chain);
    // cert-chain.pem holds the signing cert and what lies above it; fall back to cert + root.
    let caChain = fs.existsSync(chainFile) ? splitPemCertificates(read(CA_FILES.chain)) : [];
    if (caChain.length === 0) caChain = [certPem];
    const roots = splitPemCertificates(rootPem);
    const last = caChain[caChain.length - 1]!;
    if (!roots.some((r) => r.trim() === last.trim())) caChain = [...caChain, ...roots];
    return new CertificateAuthority(
      options.dir,
      options.trustDomain,
      options.maxTtlSeconds ?? DEFAULT_MAX_TTL_SECONDS,
      new x509.X509Certificate(certPem),
      keys.privateKey,
      algorithm,
      dedupe(caChain),
      roots,
    );
  }

  /**
   * Checks a CSR (signature, one URI SAN, this trust domain) and signs it for
   * `ttlSeconds`, capped at the CA's maximum and at the signing certificate's own expiry.
   */
  async sign(csrPem: string, ttlSeconds: number): Promise<IssuedChain> {
    const { identity, publicKey } = await checkCsr(csrPem);
    if (identity.trustDomain !== this.trustDomain) {
      throw new IdentityError(
        "ERR_TRUST_DOMAIN_MISMATCH",
        `CSR identity ${formatSpiffeId(identity)} is not in trust domain "${this.trustDomain}"`,
      );
    }
    return { identity, ...(await this.#signKey(publicKey, formatSpiffeId(identity), ttlSeconds)) };
  }

  /**
   * Signs a CSR whose single URI SAN must be exactly `uri`: for the mesh's own
   * parts (nodes, the controlplane), whose URIs are not workload identities.
   */
  async signUri(csrPem: string, uri: string, ttlSeconds: number): Promise<Omit<IssuedChain, "identity">> {
    const { uri: requested, publicKey } = await checkCsrUri(csrPem);
    if (requested !== uri) throw new IdentityError("ERR_CSR_INVALID", `CSR asks for ${requested}, expected ${uri}`);
    return this.#signKey(publicKey, uri, ttlSeconds);
  }

  async #signKey(publicKey: x509.PublicKey, uri: string, ttlSeconds: number): Promise<Omit<IssuedChain, "identity">> {
    const ttl = Math.max(1, Math.min(ttlSeconds, this.maxTtlSeconds));
    const notBefore = new Date(Date.now() - CLOCK_SKEW_MS);
    const notAfter = new Date(Math.min(Date.now() + ttl * 1000, this.signingCert.notAfter.getTime()));
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: "",
      issuer: this.signingCert.subject,
      notBefore,
      notAfter,
      publicKey,
      signingKey: this.signingKey,
      signingAlgorithm: this.algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        // Critical because the subject is empty (RFC 5280 4.2.1.6).
        new x509.SubjectAlternativeNameExtension([{ type: "url", value: uri }], true),
        await x509.AuthorityKeyIdentifierExtension.create(this.signingCert),
      ],
    });
    return {
      chainPem: [cert.toString("pem") + "\n", ...this.caChainPem],
      serialNumber: cert.serialNumber,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
    };
  }

  /** Makes a key and CSR for `identity` and signs it here: for a CA that lives in the same process. */
  async issue(identity: SpiffeId, ttlSeconds: number): Promise<WorkloadCertificate> {
    const request = await createCertificateRequest(identity);
    const issued = await this.sign(request.csrPem, ttlSeconds);
    return {
      identity,
      chainPem: issued.chainPem,
      privateKeyPem: request.key.privateKeyPem,
      trustBundlePem: this.trustBundlePem,
      serialNumber: issued.serialNumber,
      notBefore: issued.notBefore,
      notAfter: issued.notAfter,
    };
  }
}

function dedupe(pems: string[]): string[] {
  const seen = new Set<string>();
  return pems.filter((p) => !seen.has(p.trim()) && seen.add(p.trim()));
}

function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f; // positive INTEGER
  return Buffer.from(bytes).toString("hex");
}

/**
 * Several ztunnels on one machine may share a dev CA directory and start at
 * once: an exclusive lock file picks one creator; the others wait for its
 * ca-cert.pem, which is renamed into place last.
 */
async function createRootOnce(dir: string, trustDomain: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, ".create.lock");
  let fd: number;
  try {
    fd = fs.openSync(lock, "wx");
  } catch {
    const deadline = Date.now() + 15_000;
    while (!fs.existsSync(path.join(dir, CA_FILES.cert))) {
      if (Date.now() > deadline) throw new IdentityError("ERR_CA_LOAD", `timed out waiting for another process to create the CA in ${dir} (remove ${lock} if stale)`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return;
  }
  try {
    const key = await generateKeyMaterial();
    const now = Date.now();
    const root = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial(),
      name: `O=${trustDomain}, CN=Ambit root CA`,
      notBefore: new Date(now - CLOCK_SKEW_MS),
      notAfter: new Date(now + ROOT_TTL_DAYS * 86400_000),
      keys: key.keys,
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(key.keys.publicKey),
      ],
    });
    const pem = joinPem([root.toString("pem")]);
    const write = (name: string, data: string, mode = 0o644) => {
      const tmp = path.join(dir, `.${name}.tmp`);
      fs.writeFileSync(tmp, data, { mode });
      fs.renameSync(tmp, path.join(dir, name));
    };
    write(CA_FILES.key, key.privateKeyPem, 0o600);
    write(CA_FILES.root, pem);
    write(CA_FILES.chain, pem);
    write(CA_FILES.cert, pem);
  } finally {
    fs.closeSync(fd);
    fs.rmSync(lock, { force: true });
  }
}
