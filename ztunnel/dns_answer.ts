// What the DNS proxy says to one query, as a pure decision over the mesh's
// state: a mesh service's hostname gets its VIPs (as Istio's ztunnel answers
// from its service registry), a name under the cluster's service domain that
// names no service gets NXDOMAIN (it must not leak to an outside resolver), and
// anything else is forwarded — or refused when no upstream is configured.
import { isIP } from "node:net";
import { DNS_CLASS_IN, type DnsAnswer, type DnsQuery, DnsRcode, type DnsResponse, DnsType } from "./dns_message.ts";
import type { ProxyState } from "./state.ts";

/** Seconds a mesh answer may be cached (Istio's ztunnel uses the same). */
export const MESH_ANSWER_TTL = 30;

/** The decision. */
export type DnsDecision =
  | { readonly kind: "answer"; readonly response: DnsResponse }
  | { readonly kind: "forward" };

/** Decides the answer to `query`. */
export function answerQuery(state: ProxyState, query: DnsQuery, clusterDomain: string, canForward: boolean): DnsDecision {
  const { question } = query;
  const reply = (rcode: DnsResponse["rcode"], answers: DnsAnswer[] = [], authoritative = true): DnsDecision => ({
    kind: "answer",
    response: { id: query.id, recursionDesired: query.recursionDesired, rcode, authoritative, questionBytes: query.questionBytes, answers },
  });
  const service = state.findServiceByHostname(question.name);
  // Only a service's full hostname: `name.ns` would shadow a real domain.
  if (service && service.hostname.toLowerCase() === question.name) {
    if (question.class !== DNS_CLASS_IN) return reply(DnsRcode.refused);
    const want = (family: 4 | 6) =>
      question.type === (family === 4 ? DnsType.A : DnsType.AAAA) || question.type === DnsType.ANY;
    const answers = service.vips.flatMap((v): DnsAnswer[] => {
      const family = isIP(v.address);
      if (family === 4 && want(4)) return [{ type: DnsType.A, ttl: MESH_ANSWER_TTL, data: ipv4Bytes(v.address) }];
      if (family === 6 && want(6)) return [{ type: DnsType.AAAA, ttl: MESH_ANSWER_TTL, data: ipv6Bytes(v.address) }];
      return [];
    });
    // A name with no address of the asked type is NODATA (NOERROR, no answers), not NXDOMAIN.
    return reply(DnsRcode.noError, answers);
  }
  if (question.name === `svc.${clusterDomain}` || question.name.endsWith(`.svc.${clusterDomain}`)) return reply(DnsRcode.nxDomain);
  if (canForward && query.recursionDesired) return { kind: "forward" };
  return reply(DnsRcode.refused, [], false);
}

function ipv4Bytes(address: string): Uint8Array {
  return Uint8Array.from(address.split(".").map(Number));
}

function ipv6Bytes(address: string): Uint8Array {
  const [head = "", tail = ""] = address.toLowerCase().split("::");
  const words = (s: string) => (s ? s.split(":") : []);
  const h = words(head);
  const t = address.includes("::") ? words(tail) : [];
  const all = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    const n = parseInt(w, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  });
  return out;
}
