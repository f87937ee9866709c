// Each identity with a workload on this node gets one certificate (not one per
// workload, as in Istio), obtained from a CertificateSource and renewed at half life.
import {
  CertificateAuthority, CertificateRenewer, formatSpiffeId, type SpiffeId, type WorkloadCertificate,
} from "../identity/mod.ts";
import type { Logger } from "../telemetry/mod.ts";

/** Where certificates come from: a CA in this process (dev, file mode) or the controlplane. */
export interface CertificateSource {
  issue(identity: SpiffeId): Promise<WorkloadCertificate>;
}

/** A source backed by a CA whose files this process can read (the shared dev CA directory). */
export class LocalCaSource implements CertificateSource {
  constructor(private readonly ca: CertificateAuthority, private readonly ttlSeconds: number) {}
  issue(identity: SpiffeId): Promise<WorkloadCertificate> {
    return this.ca.issue(identity, this.ttlSeconds);
  }
}

/** What the admin API shows of a certificate. */
export interface CertificateInfo {
  readonly identity: string;
  readonly state: "available" | "pending";
  readonly serialNumber?: string;
  readonly notBefore?: string;
  readonly notAfter?: string;
  readonly chainLength?: number;
}

/** Keeps a fresh certificate for every identity present on the node. */
export class CertificateManager {
  readonly #renewers = new Map<string, { renewer: CertificateRenewer; first: Promise<WorkloadCertificate>; health: { failures: number } }>();

  /**
   * `issueTimeoutMs` bounds each request: a CA that never answers counts as a
   * failure (and a retry), so the identity shows as failing instead of pending forever.
   */
  constructor(
    private readonly source: CertificateSource,
    private readonly log: Logger,
    private readonly onCertificate: (cert: WorkloadCertificate) => void = () => {},
    private readonly issueTimeoutMs = 30_000,
  ) {}

  /** Starts certificates for new identities and stops those no longer present. */
  reconcile(identities: readonly SpiffeId[]): void {
    const wanted = new Map(identities.map((id) => [formatSpiffeId(id), id]));
    for (const [key, entry] of this.#renewers) {
      if (!wanted.has(key)) {
        entry.renewer.stop();
        this.#renewers.delete(key);
      }
    }
    for (const [key, identity] of wanted) {
      if (this.#renewers.has(key)) continue;
      const health = { failures: 0 };
      const renewer = new CertificateRenewer({
        issue: () => withTimeout(this.source.issue(identity), this.issueTimeoutMs, `no certificate for ${key} within ${this.issueTimeoutMs} ms`),
        onCertificate: (cert) => {
          health.failures = 0;
          this.log.info("cert", "certificate issued", { identity: key, serial: cert.serialNumber, expires: cert.notAfter.toISOString() });
          this.onCertificate(cert);
        },
        onError: (error, attempt) => {
          health.failures++;
          this.log.warn("cert", "certificate request failed", { identity: key, attempt, error: (error as Error).message });
        },
      });
      const first = renewer.start();
      first.catch(() => {});
      this.#renewers.set(key, { renewer, first, health });
    }
  }

  /** The current certificate for an identity, if one has been issued. */
  get(identity: SpiffeId): WorkloadCertificate | undefined {
    return this.#renewers.get(formatSpiffeId(identity))?.renewer.current;
  }

  /** Waits for an identity's first certificate. */
  async ready(identity: SpiffeId): Promise<WorkloadCertificate> {
    const entry = this.#renewers.get(formatSpiffeId(identity));
    if (!entry) throw new Error(`no certificate is being obtained for ${formatSpiffeId(identity)}`);
    return entry.renewer.current ?? entry.first;
  }

  /** True while an identity has no certificate and its last request failed. */
  failing(identity: SpiffeId): boolean {
    const entry = this.#renewers.get(formatSpiffeId(identity));
    return !!entry && entry.renewer.current === undefined && entry.health.failures > 0;
  }

  /** True when every identity has a certificate. */
  allReady(): boolean {
    return [...this.#renewers.values()].every((e) => e.renewer.current !== undefined);
  }

  /** For the admin API. */
  list(): CertificateInfo[] {
    return [...this.#renewers].map(([identity, { renewer }]) => {
      const c = renewer.current;
      return c
        ? { identity, state: "available", serialNumber: c.serialNumber, notBefore: c.notBefore.toISOString(), notAfter: c.notAfter.toISOString(), chainLength: c.chainPem.length }
        : { identity, state: "pending" };
    });
  }

  stop(): void {
    for (const { renewer } of this.#renewers.values()) renewer.stop();
    this.#renewers.clear();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
