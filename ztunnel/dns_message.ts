// The DNS wire format (RFC 1035) as far as a stub resolver's query and the
// proxy's answer need it, as pure functions. The parser reads untrusted bytes:
// it is bounded (message, label and name lengths; exactly one question; no
// compression pointers, which a query has no use for) and never throws.

/** Record types the proxy answers for. */
export const DnsType = { A: 1, AAAA: 28, ANY: 255 } as const;
export const DNS_CLASS_IN = 1;

/** Response codes (RFC 1035 4.1.1). */
export const DnsRcode = { noError: 0, formErr: 1, servFail: 2, nxDomain: 3, notImp: 4, refused: 5 } as const;
export type DnsRcodeValue = (typeof DnsRcode)[keyof typeof DnsRcode];

/** Largest query the proxy reads; a stub's query with EDNS options fits many times over. */
export const MAX_QUERY_BYTES = 1232;
/** A classic UDP answer's limit (no EDNS): larger answers are truncated (TC) so the client retries on TCP. */
export const MAX_UDP_ANSWER_BYTES = 512;

/** A parsed question. `name` is lower-cased, without the trailing dot. */
export interface DnsQuestion {
  readonly name: string;
  readonly type: number;
  readonly class: number;
}

/** A query the proxy may answer. */
export interface DnsQuery {
  readonly id: number;
  readonly recursionDesired: boolean;
  readonly question: DnsQuestion;
  /** The question's wire bytes, echoed in the answer. */
  readonly questionBytes: Uint8Array;
}

/** What parsing a datagram gives: a query, an error to answer with, or nothing to answer at all. */
export type ParsedQuery =
  | { readonly kind: "query"; readonly query: DnsQuery }
  | { readonly kind: "error"; readonly id: number; readonly rcode: DnsRcodeValue; readonly message: string }
  | { readonly kind: "drop"; readonly message: string };

/**
 * Parses a query. Responses are dropped (answering them would let two
 * resolvers bounce packets forever), as are messages too short for a header.
 */
export function parseQuery(buf: Uint8Array): ParsedQuery {
  if (buf.length < 12) return { kind: "drop", message: `message of ${buf.length} bytes is shorter than a header` };
  if (buf.length > MAX_QUERY_BYTES) return { kind: "drop", message: `message of ${buf.length} bytes exceeds ${MAX_QUERY_BYTES}` };
  const id = (buf[0]! << 8) | buf[1]!;
  const flags = (buf[2]! << 8) | buf[3]!;
  if (flags & 0x8000) return { kind: "drop", message: "message is a response" };
  const opcode = (flags >> 11) & 0xf;
  if (opcode !== 0) return { kind: "error", id, rcode: DnsRcode.notImp, message: `opcode ${opcode} is not a query` };
  const count = (i: number) => (buf[i]! << 8) | buf[i + 1]!;
  if (count(4) !== 1) return { kind: "error", id, rcode: DnsRcode.formErr, message: `${count(4)} questions (want 1)` };
  if (count(6) !== 0 || count(8) !== 0) return { kind: "error", id, rcode: DnsRcode.formErr, message: "a query carries answers" };
  const name = readName(buf, 12);
  if ("error" in name) return { kind: "error", id, rcode: DnsRcode.formErr, message: name.error };
  if (name.end + 4 > buf.length) return { kind: "error", id, rcode: DnsRcode.formErr, message: "question ends early" };
  const question = { name: name.value, type: count(name.end), class: count(name.end + 2) };
  return {
    kind: "query",
    query: { id, recursionDesired: (flags & 0x0100) !== 0, question, questionBytes: buf.slice(12, name.end + 4) },
  };
}

/** Reads an uncompressed name at `at`: at most 63 bytes a label, 255 in all. */
function readName(buf: Uint8Array, at: number): { value: string; end: number } | { error: string } {
  const labels: string[] = [];
  let i = at;
  let wire = 0;
  for (;;) {
    if (i >= buf.length) return { error: "name runs past the message" };
    const len = buf[i]!;
    if (len === 0) break;
    if (len & 0xc0) return { error: "compressed or extended label in a question" };
    wire += len + 1;
    if (wire > 254) return { error: "name longer than 255 bytes" };
    if (i + 1 + len > buf.length) return { error: "label runs past the message" };
    let label = "";
    for (const b of buf.subarray(i + 1, i + 1 + len)) label += String.fromCharCode(b >= 0x41 && b <= 0x5a ? b + 32 : b);
    labels.push(label);
    i += 1 + len;
  }
  return { value: labels.join("."), end: i + 1 };
}

/** One answer record: an address for the question's name. */
export interface DnsAnswer {
  readonly type: typeof DnsType.A | typeof DnsType.AAAA;
  readonly ttl: number;
  /** 4 bytes for A, 16 for AAAA. */
  readonly data: Uint8Array;
}

/** What the proxy answers. */
export interface DnsResponse {
  readonly id: number;
  readonly recursionDesired: boolean;
  readonly rcode: DnsRcodeValue;
  /** Whether the proxy owns the name (mesh services); forwarded answers are not built here. */
  readonly authoritative: boolean;
  readonly questionBytes?: Uint8Array;
  readonly answers: readonly DnsAnswer[];
}

/**
 * Encodes a response within `limit` bytes: answers that do not fit are left
 * out and TC is set, so the client asks again over TCP.
 */
export function encodeResponse(r: DnsResponse, limit = MAX_UDP_ANSWER_BYTES): Uint8Array {
  const question = r.questionBytes ?? new Uint8Array(0);
  const records: Uint8Array[] = [];
  let size = 12 + question.length;
  let truncated = false;
  for (const a of r.answers) {
    const rec = new Uint8Array(12 + a.data.length);
    const v = new DataView(rec.buffer);
    v.setUint16(0, 0xc00c); // the name: a pointer to the question's
    v.setUint16(2, a.type);
    v.setUint16(4, DNS_CLASS_IN);
    v.setUint32(6, a.ttl);
    v.setUint16(10, a.data.length);
    rec.set(a.data, 12);
    if (size + rec.length > limit || question.length === 0) {
      truncated = true;
      break;
    }
    records.push(rec);
    size += rec.length;
  }
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint16(0, r.id);
  const flags = 0x8000 | (r.authoritative ? 0x0400 : 0) | (truncated ? 0x0200 : 0) | (r.recursionDesired ? 0x0100 : 0) | 0x0080 | r.rcode;
  v.setUint16(2, flags);
  v.setUint16(4, question.length > 0 ? 1 : 0);
  v.setUint16(6, records.length);
  out.set(question, 12);
  let at = 12 + question.length;
  for (const rec of records) {
    out.set(rec, at);
    at += rec.length;
  }
  return out;
}

/** Encodes a query (for tests and the forwarder's own checks). */
export function encodeQuery(id: number, name: string, type: number, recursionDesired = true): Uint8Array {
  const labels = name.replace(/\.$/, "").split(".").filter(Boolean).map((l) => new TextEncoder().encode(l));
  const q = new Uint8Array(12 + labels.reduce((n, l) => n + l.length + 1, 0) + 1 + 4);
  const v = new DataView(q.buffer);
  v.setUint16(0, id);
  v.setUint16(2, recursionDesired ? 0x0100 : 0);
  v.setUint16(4, 1);
  let at = 12;
  for (const l of labels) {
    q[at] = l.length;
    q.set(l, at + 1);
    at += l.length + 1;
  }
  q[at] = 0;
  v.setUint16(at + 1, type);
  v.setUint16(at + 3, DNS_CLASS_IN);
  return q;
}
