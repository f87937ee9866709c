// The CA half of the xDS benchmark: CertificateAuthority.sign in-process on
// pre-made CSRs, beside raw Web Crypto ECDSA P-256 / SHA-256 signatures over a
// payload the size of the certificates' to-be-signed part, in the same run.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CertificateAuthority, createCertificateRequest, spiffeId } from "../identity/mod.ts";

export interface CaFigures {
  /** Median over the rounds, signatures per second, one at a time. */
  readonly caRate: number;
  readonly rawRate: number;
  /** Median over the rounds of CA rate ÷ raw rate in the same round. */
  readonly ratio: number;
  /** CA signatures per second with `inFlight` sign() calls outstanding at once. */
  readonly caConcurrentRate: number;
  readonly inFlight: number;
  readonly tbsBytes: number;
  readonly csrs: number;
  readonly rounds: number;
}

/** Makes `n` CSRs (fresh P-256 key each) for one identity. */
export async function makeCsrs(n: number, trustDomain: string, namespace: string, serviceAccount: (i: number) => string): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await createCertificateRequest(spiffeId(trustDomain, namespace, serviceAccount(i)))).csrPem);
  return out;
}

/**
 * `rounds` rounds, each signing `perRound` fresh CSRs one at a time with an in-process CA and then
 * making `rawPerRound` raw signatures, so background load falls on both alike; then `concurrent` more
 * CSRs with `inFlight` sign() calls outstanding at once (as the HTTP endpoint sees them).
 */
export async function measureCa(o: { rounds: number; perRound: number; rawPerRound: number; concurrent: number; inFlight: number }): Promise<CaFigures> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-bench-ca-"));
  try {
    const ca = await CertificateAuthority.loadOrCreate({ dir, trustDomain: "cluster.local" });
    const csrs = await makeCsrs(1 + o.rounds * o.perRound + o.concurrent, "cluster.local", "bench", (i) => `sa-${i % 50}`);
    // Warm-up, and the size of the part a CA signs.
    const warm = await ca.sign(csrs.shift()!, 3600);
    const tbsBytes = tbsLength(warm.chainPem[0]!);
    const key = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
    const payload = crypto.getRandomValues(new Uint8Array(tbsBytes));
    for (let i = 0; i < 50; i++) await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key.privateKey, payload);

    const caRates: number[] = [];
    const rawRates: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < o.rounds; r++) {
      const batch = csrs.splice(0, o.perRound);
      let t0 = performance.now();
      for (const csr of batch) await ca.sign(csr, 3600);
      const caRate = batch.length / ((performance.now() - t0) / 1000);
      t0 = performance.now();
      for (let i = 0; i < o.rawPerRound; i++) {
        payload[i % tbsBytes]! ^= 1; // a different message each time
        await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key.privateKey, payload);
      }
      const rawRate = o.rawPerRound / ((performance.now() - t0) / 1000);
      caRates.push(caRate);
      rawRates.push(rawRate);
      ratios.push(caRate / rawRate);
    }
    const t0 = performance.now();
    const rest = [...csrs];
    await Promise.all(Array.from({ length: o.inFlight }, async () => {
      for (let csr = rest.shift(); csr !== undefined; csr = rest.shift()) await ca.sign(csr, 3600);
    }));
    const caConcurrentRate = csrs.length / ((performance.now() - t0) / 1000);
    return {
      caRate: median(caRates), rawRate: median(rawRates), ratio: median(ratios), caConcurrentRate, inFlight: o.inFlight,
      tbsBytes, csrs: o.rounds * o.perRound, rounds: o.rounds,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Length in bytes of a PEM certificate's TBSCertificate (the first element of its outer DER SEQUENCE). */
function tbsLength(pem: string): number {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
  const header = (at: number) => {
    const first = der[at + 1]!;
    if (!(first & 0x80)) return { header: 2, length: first };
    let length = 0;
    for (let k = 0; k < (first & 0x7f); k++) length = length * 256 + der[at + 2 + k]!;
    return { header: 2 + (first & 0x7f), length };
  };
  const outer = header(0);
  const tbs = header(outer.header);
  return tbs.header + tbs.length;
}
