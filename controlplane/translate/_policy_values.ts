// Converts the string values of an AuthorizationPolicy into match values, as
// istiod's ambient translation does: one leading or trailing `*`, bare IPs as
// single-host ranges, `sa` as a service account of the policy's namespace.
import { isIP } from "node:net";
import type { AddressRange, ServiceAccountMatch, StringMatch } from "../../xds/resources.ts";

/** `*` → presence, `*x` → suffix, `x*` → prefix, else exact. */
export function stringMatches(values: readonly string[]): StringMatch[] {
  return values.map((v): StringMatch => {
    if (v === "*") return { presence: true };
    if (v.startsWith("*")) return { suffix: v.slice(1) };
    if (v.endsWith("*")) return { prefix: v.slice(0, -1) };
    return { exact: v };
  });
}

/** `ns/sa` → that account; a bare `sa` is in the policy's own namespace. */
export function serviceAccountMatches(values: readonly string[], policyNamespace: string): ServiceAccountMatch[] {
  return values.map((v) => {
    const slash = v.indexOf("/");
    return slash < 0
      ? { namespace: policyNamespace, serviceAccount: v }
      : { namespace: v.slice(0, slash), serviceAccount: v.slice(slash + 1) };
  });
}

/** CIDRs and bare addresses (a bare address is /32 or /128); unparsable values are skipped. */
export function addressRanges(values: readonly string[]): AddressRange[] {
  return values.flatMap((v): AddressRange[] => {
    const [address = "", bits, extra] = v.trim().split("/");
    const family = isIP(address);
    if (family === 0 || extra !== undefined) return [];
    const max = family === 4 ? 32 : 128;
    if (bits === undefined) return [{ address, length: max }];
    const length = /^\d+$/.test(bits) ? Number(bits) : NaN;
    return Number.isInteger(length) && length <= max ? [{ address, length }] : [];
  });
}

/** Decimal ports 0..65535; anything else is skipped. */
export function ports(values: readonly string[]): number[] {
  return values.flatMap((v) => (/^\d+$/.test(v) && Number(v) <= 65535 ? [Number(v)] : []));
}
