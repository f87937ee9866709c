import { expect, test } from "bun:test";
import { IdentityError } from "./errors.ts";
import { formatSpiffeId, parseSpiffeId, principalOf } from "./spiffe.ts";

const valid: [string, string, string, string][] = [
  ["spiffe://cluster.local/ns/default/sa/sleep", "cluster.local", "default", "sleep"],
  ["spiffe://td-1.example/ns/bookinfo/sa/bookinfo-reviews", "td-1.example", "bookinfo", "bookinfo-reviews"],
  ["spiffe://a/ns/n/sa/s.a", "a", "n", "s.a"],
];
for (const [input, td, ns, sa] of valid) {
  test(`parses ${input}`, () => {
    const id = parseSpiffeId(input);
    expect(id).toEqual({ trustDomain: td, namespace: ns, serviceAccount: sa });
    expect(formatSpiffeId(id)).toBe(input);
  });
}

const invalid: [string, string][] = [
  ["http://cluster.local/ns/default/sa/sleep", "scheme"],
  ["spiffe:///ns/default/sa/sleep", "trust domain"],
  ["spiffe://cluster.local", "trust domain"],
  ["spiffe://cluster.local/ns/default", "path"],
  ["spiffe://cluster.local/ns/default/sa/", "service account"],
  ["spiffe://cluster.local/ns//sa/sleep", "namespace"],
  ["spiffe://cluster.local/sa/sleep/ns/default", "path"],
  ["spiffe://Cluster.Local/ns/default/sa/sleep", "trust domain"],
  ["spiffe://cluster.local/ns/Default/sa/sleep", "namespace"],
  ["spiffe://cluster.local/ns/default/sa/sleep/extra", "path"],
];
for (const [input, part] of invalid) {
  test(`rejects ${input} naming the ${part}`, () => {
    try {
      parseSpiffeId(input);
      throw new Error("accepted");
    } catch (e) {
      expect(e).toBeInstanceOf(IdentityError);
      expect((e as IdentityError).code).toBe("ERR_SPIFFE_ID_INVALID");
      expect((e as Error).message).toContain(part);
    }
  });
}

test("principal is the id without spiffe://", () => {
  expect(principalOf(parseSpiffeId("spiffe://cluster.local/ns/default/sa/sleep"))).toBe("cluster.local/ns/default/sa/sleep");
});
