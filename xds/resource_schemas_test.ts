// Table tests for the parts of a Workload that become its SPIFFE id: a bad one
// is NACKed by name at the ztunnel, never passed on to fail at certificate time.
import { expect, test } from "bun:test";
import { testWorkload } from "../testing/resources.ts";
import { checkResource, workloadSchema } from "./resource_schemas.ts";

const rows: [string, Record<string, unknown>, RegExp | undefined][] = [
  ["a workload as the controlplane sends it", {}, undefined],
  ["a dotted service account (a DNS subdomain)", { serviceAccount: "bookinfo.reviews" }, undefined],
  ["a service account with '/' (would name another identity)", { serviceAccount: "x/sa/istiod" }, /serviceAccount.*service account name/],
  ["an upper-case service account", { serviceAccount: "Reviews" }, /serviceAccount/],
  ["an empty service account", { serviceAccount: "" }, /serviceAccount/],
  ["a service account of 254 characters", { serviceAccount: "a".repeat(254) }, /serviceAccount/],
  ["a namespace with '_'", { namespace: "team_a" }, /namespace.*namespace name/],
  ["a namespace of 64 characters", { namespace: "a".repeat(64) }, /namespace/],
  ["a trust domain with '/'", { trustDomain: "cluster.local/ns" }, /trustDomain/],
];

for (const [name, over, want] of rows) {
  test(`workloadSchema: ${name} → ${want ? "NACK" : "accepted"}`, () => {
    const r = checkResource(workloadSchema, { ...testWorkload("reviews-1", "bookinfo"), ...over });
    if (!want) return void expect(r.ok).toBe(true);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(want);
  });
}
