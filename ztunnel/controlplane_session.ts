// How a ztunnel talks to its controlplane: over TLS it first proves it is its
// node with the join token (once), getting a node certificate, and from then on
// uses that certificate for xDS, CSRs and its own renewal at half life.
// On a loopback dev endpoint (http://) there is no TLS and no join.
import * as fs from "node:fs";
import {
  checkControlplaneIdentity, createCertificateRequest, createUriCertificateRequest, joinPem, nodeUri, type SpiffeId, splitPemCertificates, summarizeLeaf,
  type WorkloadCertificate,
} from "../identity/mod.ts";
import { Http2Client, type Http2ClientTls } from "../runtime/mod.ts";
import type { CertificateSource } from "./certificates.ts";

/** Where the controlplane is and how to trust it. */
export interface ControlplaneEndpoint {
  /** One URL, or several comma-separated: replicas on one store, tried in turn. */
  readonly url: string;
  readonly node: string;
  readonly trustDomain: string;
  /** PEM roots that signed the controlplane's certificate (required for https). */
  readonly caPem?: string;
  readonly joinToken?: string;
  /** Read at every join instead of joinToken (a projected ServiceAccount token rotates). */
  readonly joinTokenFile?: string;
}

interface JoinAnswer {
  readonly certChain: string[];
  readonly trustBundle: string[];
  readonly notAfter: string;
}

/** A joined connection to the controlplane. */
export class ControlplaneSession implements CertificateSource {
  #tls: Http2ClientTls | undefined;
  #api: Http2Client | undefined;
  #nodeCertNotAfter: Date | undefined;
  #trustBundle: readonly string[] = [];
  /** The replicas, and which one this session last reached. */
  readonly urls: readonly string[];
  #current = 0;

  constructor(readonly endpoint: ControlplaneEndpoint, private readonly certTtlSeconds: number) {
    if (endpoint.url.startsWith("https:") && !endpoint.caPem) throw new Error("--controlplane-ca is required for an https controlplane");
    this.urls = endpoint.url.split(",");
  }

  /** The replicas, starting with the one last reached (where xDS should go first). */
  get preferredUrls(): string[] {
    return [...this.urls.slice(this.#current), ...this.urls.slice(0, this.#current)];
  }

  get secure(): boolean {
    return this.endpoint.url.startsWith("https:");
  }

  /** TLS settings for xDS and CA calls (the node certificate), once joined. */
  get tls(): Http2ClientTls | undefined {
    return this.#tls;
  }

  /** When the node certificate should be renewed by joining again. */
  get renewAt(): Date | undefined {
    if (!this.#nodeCertNotAfter) return undefined;
    return new Date(Date.now() + (this.#nodeCertNotAfter.getTime() - Date.now()) / 2);
  }

  /** Roots learned from the controlplane (join answer, xDS TrustBundle). */
  set trustBundle(roots: readonly string[]) {
    this.#trustBundle = roots;
  }

  /**
   * Obtains the node certificate: the first time with the join token (which
   * works once), afterwards by renewing over mTLS with the certificate itself;
   * from the first replica that answers.
   */
  async join(): Promise<void> {
    let failure: unknown;
    for (const url of this.preferredUrls) {
      try {
        await this.#joinAt(url);
        this.#current = this.urls.indexOf(url);
        return;
      } catch (e) {
        failure = e;
      }
    }
    throw failure;
  }

  async #joinAt(url: string): Promise<void> {
    if (!this.secure) {
      this.#api?.close();
      this.#api = new Http2Client(url);
      return;
    }
    const checkServerIdentity = checkControlplaneIdentity(this.endpoint.trustDomain);
    const holding = this.#tls && this.#nodeCertNotAfter && this.#nodeCertNotAfter.getTime() > Date.now();
    const joinToken = holding ? undefined : this.endpoint.joinTokenFile ? fs.readFileSync(this.endpoint.joinTokenFile, "utf8").trim() : this.endpoint.joinToken;
    if (!holding && !joinToken) throw new Error("--join-token is required to join an https controlplane");
    const caller = holding
      ? new Http2Client(url, this.#tls)
      : new Http2Client(url, { ca: this.endpoint.caPem, checkServerIdentity });
    try {
      const { csrPem, key } = await createUriCertificateRequest(nodeUri(this.endpoint.trustDomain, this.endpoint.node));
      const res = holding
        ? await caller.json<JoinAnswer>("POST", "/nodes/v1/renew", { csr: csrPem })
        : await caller.json<JoinAnswer>("POST", "/nodes/v1/join", { csr: csrPem }, { authorization: `Bearer ${joinToken}` });
      this.#tls = { ca: this.endpoint.caPem, cert: joinPem(res.certChain), key: key.privateKeyPem, checkServerIdentity };
      this.#nodeCertNotAfter = new Date(res.notAfter);
      this.#trustBundle = res.trustBundle;
      this.#api?.close();
      this.#api = new Http2Client(url, this.#tls);
    } finally {
      caller.close();
    }
  }

  /** CertificateSource: a workload certificate for `identity`, via CSR. */
  async issue(identity: SpiffeId): Promise<WorkloadCertificate> {
    if (!this.#api) await this.join();
    const request = await createCertificateRequest(identity);
    const body = { csr: request.csrPem, validitySeconds: this.certTtlSeconds, node: this.endpoint.node };
    let res: { certChain: string[] } | undefined;
    // A replica that cannot be reached hands the CSR to the next (the node certificate is good at all of them).
    for (let tried = 1; !res; tried++) {
      try {
        res = await this.#api!.json<{ certChain: string[] }>("POST", "/ca/v1/certificates", body);
      } catch (e) {
        if (tried >= this.urls.length || (e as { status?: number }).status !== undefined) throw e;
        this.#current = (this.#current + 1) % this.urls.length;
        this.#api!.close();
        this.#api = new Http2Client(this.urls[this.#current]!, this.#tls);
      }
    }
    const chainPem = res.certChain.flatMap(splitPemCertificates);
    const leaf = summarizeLeaf(chainPem[0]!);
    if (leaf.identity.namespace !== identity.namespace || leaf.identity.serviceAccount !== identity.serviceAccount || leaf.identity.trustDomain !== identity.trustDomain) {
      throw new Error(`the CA issued a certificate for a different identity than requested`);
    }
    const root = chainPem[chainPem.length - 1]!;
    const roots = [...new Set([...this.#trustBundle, root].map((p) => p.trim() + "\n"))];
    return { ...leaf, identity, chainPem, privateKeyPem: request.key.privateKeyPem, trustBundlePem: roots };
  }

  close(): void {
    this.#api?.close();
  }
}
