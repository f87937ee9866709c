/**
 * Deterministic VIPs for services whose spec gives none (a ServiceEntry
 * without `addresses`, a Service from a store that assigns no cluster IP).
 *
 * @module
 */
import { TranslateError } from "./errors.ts";

/**
 * The default range. 240.0.0.0/4 is reserved (RFC 1112, "future use"): it is never routed and no
 * host has such an address, so an allocated VIP cannot collide with a real one, and a connection
 * to it only ever goes where ztunnel sends it. (Istio's auto-allocation uses 240.240.0.0/16 too.)
 */
export const DEFAULT_VIP_RANGE = "240.240.0.0/16";

/** Gives each service key a VIP in a range; the same key keeps its VIP while it is retained. */
export interface VipAllocator {
  (serviceKey: string): string;
  /** Forgets every key not in `keys`, freeing their VIPs for others. */
  retain(keys: Iterable<string>): void;
  /** The range, as given. */
  readonly cidr: string;
}

/**
 * An allocator over an IPv4 range: a key hashes (FNV-1a) to a slot; on collision the next free
 * slot is taken (linear probe). A key keeps its VIP until it is no longer retained, so asking for
 * the same set of keys in the same order always gives the same VIPs, and adding a key never moves
 * another. The network and broadcast addresses of the range are not handed out.
 *
 * @example
 * ```ts
 * const allocate = vipAllocator();
 * allocate("default/db.example.com"); // "240.240.x.y", the same on every call
 * ```
 */
export function vipAllocator(cidr: string = DEFAULT_VIP_RANGE): VipAllocator {
  const { first, size } = parseRange(cidr);
  const byKey = new Map<string, number>();
  const taken = new Map<number, string>();
  const allocate = (serviceKey: string): string => {
    let slot = byKey.get(serviceKey);
    if (slot === undefined) {
      if (taken.size >= size) throw new TranslateError("ERR_VIP_RANGE_EXHAUSTED", `no VIP left in ${cidr} for ${serviceKey}`);
      slot = fnv1a(serviceKey) % size;
      while (taken.has(slot)) slot = (slot + 1) % size;
      byKey.set(serviceKey, slot);
      taken.set(slot, serviceKey);
    }
    return formatIpv4(first + slot);
  };
  const retain = (keys: Iterable<string>): void => {
    const keep = new Set(keys);
    for (const [key, slot] of byKey) {
      if (keep.has(key)) continue;
      byKey.delete(key);
      taken.delete(slot);
    }
  };
  return Object.assign(allocate, { retain, cidr });
}

/** The range's first assignable address and how many there are (shared with controlplane/store/persistent_vips.ts). */
export function parseRange(cidr: string): { first: number; size: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const bits = m ? Number(m[5]) : NaN;
  if (!m || octets.some((o) => o > 255) || bits > 32) {
    throw new TranslateError("ERR_VIP_RANGE_INVALID", `VIP range "${cidr}" is not an IPv4 CIDR like ${DEFAULT_VIP_RANGE}`);
  }
  const total = 2 ** (32 - bits);
  const base = octets.reduce((a, o) => a * 256 + o, 0);
  const network = base - (base % total);
  // Skip the network and broadcast addresses where the range has them (/30 and wider).
  return total >= 4 ? { first: network + 1, size: total - 2 } : { first: network, size: total };
}

/** 32-bit FNV-1a over the key's UTF-8 bytes. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(s)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

export function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}
